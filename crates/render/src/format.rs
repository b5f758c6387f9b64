//! Dates, times and labels as German documents print them.

use chrono::{DateTime, Datelike, Utc};
use plenum_domain::german_time;

const WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];

/// `Donnerstag, 3. Dezember 2026`.
pub(crate) fn long_date(at: DateTime<Utc>) -> String {
    let local = german_time(at);
    let weekday = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
    format!("{weekday}, {}", date(at))
}

/// `3. Dezember 2026`.
pub(crate) fn date(at: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    let local = german_time(at);
    format!(
        "{}. {} {}",
        local.day(),
        MONTHS[local.month0() as usize],
        local.year()
    )
}

/// `03.12.2026`.
pub(crate) fn short_date(at: DateTime<Utc>) -> String {
    german_time(at).format("%d.%m.%Y").to_string()
}

/// `18:05 Uhr`.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    german_time(at).format("%H:%M Uhr").to_string()
}

/// `03.12.2026, 18:05 Uhr`.
pub(crate) fn date_time(at: DateTime<Utc>) -> String {
    format!("{}, {}", short_date(at), time(at))
}

/// The majority rule in words.
pub(crate) fn rule(rule: &str) -> String {
    match rule {
        "simple" => "einfache Mehrheit".into(),
        "absolute_statutory" => "Mehrheit der gesetzlichen Mitgliederzahl".into(),
        "two_thirds_cast" => "Zweidrittelmehrheit der abgegebenen Stimmen".into(),
        "two_thirds_statutory" => "Zweidrittelmehrheit der gesetzlichen Mitgliederzahl".into(),
        other => other.into(),
    }
}

/// The kind of a poll in words.
pub(crate) fn poll_kind(kind: &str) -> String {
    match kind {
        "open" => "offene Abstimmung".into(),
        "named" => "namentliche Abstimmung".into(),
        "secret" => "geheime Abstimmung".into(),
        "election" => "Wahl".into(),
        "manual" => "Abstimmung (von Hand gezählt)".into(),
        other => other.into(),
    }
}

/// A poll's outcome in words.
pub(crate) fn outcome(outcome: &str) -> String {
    match outcome {
        "adopted" => "angenommen".into(),
        "rejected" => "abgelehnt".into(),
        "elected" => "gewählt".into(),
        "runoff" => "Stichwahl erforderlich".into(),
        "lot" => "Entscheidung durch Los".into(),
        "none" => "niemand gewählt".into(),
        other => other.into(),
    }
}

/// A named vote's choice in words (a candidate's name stays as it is).
pub(crate) fn choice(choice: &str) -> String {
    match choice {
        "yes" => "Ja".into(),
        "no" => "Nein".into(),
        "abstain" => "Enthaltung".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn german_time_follows_summer_time() {
        // Winter: UTC+1.
        assert_eq!(time(utc(2026, 12, 3, 17, 0)), "18:00 Uhr");
        // Summer: UTC+2.
        assert_eq!(time(utc(2026, 7, 1, 16, 30)), "18:30 Uhr");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(time(utc(2026, 3, 29, 0, 59)), "01:59 Uhr");
        assert_eq!(time(utc(2026, 3, 29, 1, 0)), "03:00 Uhr");
        assert_eq!(time(utc(2026, 10, 25, 0, 59)), "02:59 Uhr");
        assert_eq!(time(utc(2026, 10, 25, 1, 0)), "02:00 Uhr");
        // A late meeting crosses midnight in German time only.
        assert_eq!(short_date(utc(2026, 12, 3, 23, 30)), "04.12.2026");
        assert_eq!(
            long_date(utc(2026, 12, 3, 17, 0)),
            "Donnerstag, 3. Dezember 2026"
        );
    }
}
