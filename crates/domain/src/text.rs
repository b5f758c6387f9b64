//! Validated text values. Each is trimmed, non-empty (unless said otherwise), bounded in length and
//! free of control characters, so the store and the API never have to check again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

fn clean_line(field: &'static str, raw: &str, max_chars: usize) -> Result<String, DomainError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

macro_rules! line_type {
    ($(#[$doc:meta] $name:ident, $field:literal, $max:literal;)*) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                clean_line($field, raw, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = DomainError;
            fn try_from(raw: &str) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

line_type! {
    /// A name: of a body, organization, person, location or meeting.
    Name, "name", 200;
    /// A title: of an agenda item or a paper. Council titles can be long.
    Title, "title", 1000;
    /// A paper's reference ("Drucksachennummer"), e.g. `VO/10742/23`.
    PaperReference, "reference", 64;
    /// A file name as shown to users, e.g. `Haushaltsplan 2025.pdf`.
    FileName, "file name", 255;
}

/// An agenda item's number as printed on the agenda: `Ö 7`, `N 2`, `Ö 7.1`.
///
/// `Ö` marks a public item (öffentlich), `N` a non-public one (nicht öffentlich). Other labels
/// (e.g. `TOP 3`) are accepted too; those carry no visibility of their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgendaNumber(String);

impl AgendaNumber {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        clean_line("agenda number", &collapsed, 20).map(Self)
    }

    /// `Ö n` or `N n`, by visibility.
    pub fn numbered(public: bool, n: u32) -> Self {
        Self(format!("{} {n}", if public { "Ö" } else { "N" }))
    }

    /// The visibility the number itself states: `Some(true)` for `Ö …`, `Some(false)` for `N …`.
    pub fn stated_public(&self) -> Option<bool> {
        let (prefix, rest) = self.0.split_once(' ')?;
        if rest.is_empty() || !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        match prefix {
            "Ö" | "ö" | "OE" | "Oe" => Some(true),
            "N" | "n" | "NÖ" => Some(false),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgendaNumber {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<AgendaNumber> for String {
    fn from(value: AgendaNumber) -> String {
        value.0
    }
}

impl fmt::Display for AgendaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login name: 3 to 64 characters of `a-z 0-9 . _ -`, stored in lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        let len = value.chars().count();
        if !(3..=64).contains(&len) {
            return Err(DomainError::invalid(
                "username",
                "must be 3 to 64 characters long",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::invalid(
                "username",
                "may contain only letters a-z, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> String {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for plausible shape only (the mail server is the real judge).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = clean_line("email", raw, 254)?;
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.contains(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if valid {
            Ok(Self(value))
        } else {
            Err(DomainError::invalid("email", "is not an e-mail address"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

/// Markdown source text (paper text, notes). May be empty; bounded at 1 MiB.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Markdown(String);

impl Markdown {
    pub const MAX_BYTES: usize = 1024 * 1024;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.len() > Self::MAX_BYTES {
            return Err(DomainError::invalid("text", "must be at most 1 MiB"));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DomainError::invalid(
                "text",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Markdown {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Markdown> for String {
    fn from(value: Markdown) -> String {
        value.0
    }
}

/// A SHA-256 digest, shown as 64 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        if raw.len() != 64 {
            return Err(DomainError::invalid("sha256", "must be 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&raw[2 * i..2 * i + 2], 16)
                .map_err(|_| DomainError::invalid("sha256", "must be 64 hex digits"))?;
        }
        Ok(Self(out))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Sha256Digest> for String {
    fn from(value: Sha256Digest) -> String {
        value.to_hex()
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A media type such as `application/pdf` (lower case, no parameters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaType(String);

impl MediaType {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let token_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
        };
        match value.split_once('/') {
            Some((kind, sub)) if token_ok(kind) && token_ok(sub) && value.len() <= 127 => {
                Ok(Self(value))
            }
            _ => Err(DomainError::invalid(
                "media type",
                "must look like type/subtype",
            )),
        }
    }

    pub fn pdf() -> Self {
        Self("application/pdf".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MediaType {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<MediaType> for String {
    fn from(value: MediaType) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Rat der Stadt ").unwrap().as_str(),
            "Rat der Stadt"
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
        assert!(
            Name::parse(&"ä".repeat(200)).is_ok(),
            "limit counts characters, not bytes"
        );
        assert!(Name::parse("a\u{0}b").is_err());
    }

    #[test]
    fn agenda_numbers_state_their_visibility() {
        assert_eq!(
            AgendaNumber::parse("Ö 7").unwrap().stated_public(),
            Some(true)
        );
        assert_eq!(AgendaNumber::parse("N  2").unwrap().as_str(), "N 2");
        assert_eq!(
            AgendaNumber::parse("N 2").unwrap().stated_public(),
            Some(false)
        );
        assert_eq!(
            AgendaNumber::parse("Ö 7.1").unwrap().stated_public(),
            Some(true)
        );
        assert_eq!(AgendaNumber::parse("TOP 3").unwrap().stated_public(), None);
        assert_eq!(AgendaNumber::numbered(false, 4).as_str(), "N 4");
        assert!(AgendaNumber::parse("").is_err());
    }

    #[test]
    fn usernames_are_lower_case_and_restricted() {
        assert_eq!(
            Username::parse("Anna.Schmidt").unwrap().as_str(),
            "anna.schmidt"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("anna schmidt").is_err());
        assert!(Username::parse("anna@x").is_err());
    }

    #[test]
    fn emails_need_a_plausible_shape() {
        assert!(Email::parse("ratsbuero@musterstadt.de").is_ok());
        assert!(Email::parse("no-at-sign").is_err());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.de").is_err());
    }

    #[test]
    fn sha256_round_trips_as_hex() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Sha256Digest::parse(hex).unwrap().to_hex(), hex);
        assert!(Sha256Digest::parse("abc").is_err());
        assert!(Sha256Digest::parse(&"g".repeat(64)).is_err());
    }

    #[test]
    fn media_types_drop_parameters_and_reject_garbage() {
        assert_eq!(
            MediaType::parse("Application/PDF; charset=binary")
                .unwrap()
                .as_str(),
            "application/pdf"
        );
        assert!(MediaType::parse("pdf").is_err());
        assert!(MediaType::parse("a/b c").is_err());
    }

    #[test]
    fn markdown_may_be_empty_but_not_huge() {
        assert!(Markdown::parse("").is_ok());
        assert!(Markdown::parse("# Titel\n\nText\twith tab").is_ok());
        assert!(Markdown::parse(&"x".repeat(Markdown::MAX_BYTES + 1)).is_err());
    }

    #[test]
    fn serde_rejects_invalid_values() {
        assert!(serde_json::from_str::<Name>("\"  \"").is_err());
        assert!(serde_json::from_str::<Name>("\"Rat\"").is_ok());
    }
}
