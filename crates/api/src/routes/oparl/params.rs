//! What an OParl request says besides its path: the public base URL, list filters, paging, and
//! the error documents OParl clients get.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use plenum_store::StoreError;
use plenum_store::query::{Page, PageRequest, Window};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::origin::Origin;
use crate::{ApiError, Problem};

/// Objects per page unless the client asks for fewer or more.
pub const DEFAULT_LIMIT: u64 = 100;
/// The most objects per page, whatever the client asks.
pub const MAX_LIMIT: u64 = 500;

/// Why an OParl request failed. Answered as a problem document that also carries OParl's
/// `message` (for end users, German) and `debug` members.
#[derive(Debug)]
pub enum OparlError {
    Api(ApiError),
    /// A query parameter cannot be used; the text says which and why.
    InvalidQuery(String),
    /// The object existed but was deleted (for file contents: 410 Gone).
    Gone,
}

impl From<ApiError> for OparlError {
    fn from(err: ApiError) -> Self {
        OparlError::Api(err)
    }
}

impl From<StoreError> for OparlError {
    fn from(err: StoreError) -> Self {
        OparlError::Api(err.into())
    }
}

impl From<PathRejection> for OparlError {
    fn from(rejection: PathRejection) -> Self {
        OparlError::Api(ApiError::Path(rejection))
    }
}

/// Path parameters whose rejection (e.g. a segment that is not UTF-8 once decoded) is an OParl
/// problem document, never axum's `text/plain`.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(OparlError))]
pub struct OparlPath<T>(pub T);

impl OparlError {
    pub fn not_found() -> Self {
        OparlError::Api(ApiError::NotFound)
    }
}

impl IntoResponse for OparlError {
    fn into_response(self) -> Response {
        let (problem, message) = match self {
            OparlError::InvalidQuery(detail) => (
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    "Invalid query parameter",
                )
                .with_detail(detail),
                "Die Anfrage enthält einen ungültigen Parameter.",
            ),
            OparlError::Gone => (
                Problem::new(StatusCode::GONE, "gone", "Gone")
                    .with_detail("The object was deleted."),
                "Das Objekt wurde gelöscht.",
            ),
            OparlError::Api(err) => {
                let message = match &err {
                    ApiError::NotFound | ApiError::Store(StoreError::NotFound { .. }) => {
                        "Das angeforderte Objekt existiert nicht."
                    }
                    ApiError::Query(_) | ApiError::Path(_) => {
                        "Die Anfrage enthält einen ungültigen Parameter."
                    }
                    _ => "Der Server kann die Anfrage gerade nicht beantworten.",
                };
                let problem = err.problem();
                if problem.status >= 500 {
                    // Same logging as every other API error.
                    return err.into_response();
                }
                (problem, message)
            }
        };
        oparl_problem(problem, message)
    }
}

/// A problem document with OParl's error members added (`message` for end users).
pub fn oparl_problem(problem: Problem, message: &str) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = serde_json::to_value(&problem).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("message".into(), Value::from(message));
        if let Some(detail) = &problem.detail {
            map.insert("debug".into(), Value::from(detail.as_str()));
        }
    }
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// The absolute URL of the OParl root (`https://ris.example.org/oparl/v1`): OParl ids are
/// absolute URLs. Built from the request's [`Origin`] (see `crate::origin` for whom to believe).
#[derive(Debug, Clone)]
pub struct Base(pub String);

impl FromRequestParts<crate::AppState> for Base {
    type Rejection = OparlError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        let Origin(origin) = Origin::from_request_parts(parts, state).await?;
        Ok(Base(format!("{origin}/oparl/v1")))
    }
}

/// The query parameters of an OParl list, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawListQuery {
    pub created_since: Option<String>,
    pub created_until: Option<String>,
    pub modified_since: Option<String>,
    pub modified_until: Option<String>,
    pub limit: Option<String>,
    pub after: Option<String>,
    pub omit_internal: Option<String>,
}

/// The query parameters of an OParl list, checked.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub window: Window,
    /// The four date-time filters as sent (`created_since` … `modified_until`), for links.
    pub window_text: [Option<String>; 4],
    /// The limit the client asked for (repeated in links), if any.
    pub asked_limit: Option<u64>,
    pub after: Option<Uuid>,
    pub omit_internal: bool,
}

/// OParl's `limit`: a whole number from 1 to 2^63 − 1 (the OpenAPI document's `int64`). OParl
/// lets a server serve fewer objects per page than asked, so more than [`MAX_LIMIT`] is served
/// as [`MAX_LIMIT`], as the document says; anything else is rejected.
fn parse_limit(text: &str) -> Result<u64, OparlError> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 1 && !text.trim().starts_with('+') => Ok((n as u64).min(MAX_LIMIT)),
        _ => Err(OparlError::InvalidQuery(format!(
            "limit must be a whole number from 1 to 9223372036854775807 (more than {MAX_LIMIT} \
             is served as {MAX_LIMIT}), not {text:?}"
        ))),
    }
}

/// A `+` sent unencoded arrives as a space; this takes it back.
fn repair_time(raw: &str) -> String {
    raw.trim().replace(' ', "+")
}

/// Parses an OParl date-time (RFC 3339, with offset).
fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>, OparlError> {
    DateTime::parse_from_rfc3339(&repair_time(raw))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            OparlError::InvalidQuery(format!(
                "{name} must be a date-time such as 2026-01-31T18:00:00+01:00, not {raw:?}"
            ))
        })
}

impl ListQuery {
    pub fn parse(
        query: Result<axum::extract::Query<RawListQuery>, QueryRejection>,
    ) -> Result<Self, OparlError> {
        let raw = match query {
            Ok(axum::extract::Query(raw)) => raw,
            Err(rejection) => return Err(OparlError::InvalidQuery(rejection.body_text())),
        };
        let time = |name: &str, value: &Option<String>| {
            value.as_deref().map(|v| parse_time(name, v)).transpose()
        };
        let window = Window {
            created_since: time("created_since", &raw.created_since)?,
            created_until: time("created_until", &raw.created_until)?,
            modified_since: time("modified_since", &raw.modified_since)?,
            modified_until: time("modified_until", &raw.modified_until)?,
        };
        let window_text = [
            raw.created_since,
            raw.created_until,
            raw.modified_since,
            raw.modified_until,
        ]
        .map(|value| value.map(|v| repair_time(&v)));
        let asked_limit = match raw.limit.as_deref() {
            None => None,
            Some(text) => Some(parse_limit(text)?),
        };
        let after = match raw.after.as_deref() {
            None => None,
            Some(text) => Some(Uuid::parse_str(text.trim()).map_err(|_| {
                OparlError::InvalidQuery(format!("after must be an id from a link, not {text:?}"))
            })?),
        };
        let omit_internal = match raw.omit_internal.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(OparlError::InvalidQuery(format!(
                    "omit_internal must be true or false, not {other:?}"
                )));
            }
        };
        Ok(ListQuery {
            window,
            window_text,
            asked_limit,
            after,
            omit_internal,
        })
    }

    /// Objects per page: what the client asked for, within bounds.
    pub fn limit(&self) -> u64 {
        self.asked_limit
            .unwrap_or(DEFAULT_LIMIT)
            .clamp(1, MAX_LIMIT)
    }

    pub fn page_request(&self) -> PageRequest {
        PageRequest {
            window: self.window,
            // OParl: tombstones are listed exactly when `modified_since` is given.
            include_deleted: self.window.modified_since.is_some(),
            after: self.after,
            limit: self.limit(),
        }
    }

    /// The list's URL for the page starting after `after`, with every filter carried over.
    /// Parameters are always in alphabetical order, so each page has one canonical URL.
    pub fn link(&self, list_url: &str, after: Option<Uuid>) -> String {
        let [created_since, created_until, modified_since, modified_until] =
            self.window_text.clone();
        let params: [(&str, Option<String>); 7] = [
            ("after", after.map(|a| a.to_string())),
            ("created_since", created_since),
            ("created_until", created_until),
            ("limit", self.asked_limit.map(|_| self.limit().to_string())),
            ("modified_since", modified_since),
            ("modified_until", modified_until),
            (
                "omit_internal",
                self.omit_internal.then(|| "true".to_owned()),
            ),
        ];
        let query: Vec<String> = params
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| format!("{name}={}", encode(&v))))
            .collect();
        if query.is_empty() {
            list_url.to_owned()
        } else {
            format!("{list_url}?{}", query.join("&"))
        }
    }

    /// The list page document: `data`, `pagination` and `links`.
    pub fn page_document<T>(
        &self,
        list_url: &str,
        page: &Page<T>,
        data: Vec<Value>,
        last_id: Option<Uuid>,
    ) -> Value {
        let limit = self.limit();
        let mut links = serde_json::Map::new();
        links.insert("first".into(), Value::from(self.link(list_url, None)));
        if let Some(prev) = page.prev {
            links.insert("prev".into(), Value::from(self.link(list_url, prev)));
        }
        links.insert("self".into(), Value::from(self.link(list_url, self.after)));
        if page.more
            && let Some(last) = last_id
        {
            links.insert("next".into(), Value::from(self.link(list_url, Some(last))));
        }
        json!({
            "data": data,
            "pagination": {
                "totalElements": page.total,
                "elementsPerPage": limit,
                "currentPage": page.before.div_ceil(limit) + 1,
                "totalPages": page.total.div_ceil(limit).max(1),
            },
            "links": links,
        })
    }
}

/// Percent-encodes a query parameter value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_accept_offsets_and_an_unencoded_plus() {
        let a = parse_time("x", "2026-01-31T18:00:00+01:00").unwrap();
        let b = parse_time("x", "2026-01-31T18:00:00 01:00").unwrap();
        let c = parse_time("x", "2026-01-31T17:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(parse_time("x", "yesterday").is_err());
        assert!(parse_time("x", "2026-01-31").is_err());
    }

    #[test]
    fn limits_from_one_and_huge_ones_capped() {
        assert_eq!(parse_limit("7").unwrap(), 7);
        assert_eq!(parse_limit("501").unwrap(), MAX_LIMIT);
        assert_eq!(parse_limit("9223372036854775807").unwrap(), MAX_LIMIT);
        for bad in [
            "0",
            "00",
            "-1",
            "+5",
            "",
            "many",
            "1.5",
            "9223372036854775808",
        ] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_carry_filters_in_alphabetical_order() {
        let query = ListQuery {
            window: Window {
                modified_since: Some(parse_time("x", "2026-01-31T18:00:00+01:00").unwrap()),
                ..Window::default()
            },
            window_text: [None, None, Some("2026-01-31T18:00:00+01:00".into()), None],
            asked_limit: Some(5000),
            after: None,
            omit_internal: true,
        };
        let id = Uuid::nil();
        assert_eq!(
            query.link("http://h/oparl/v1/body/1/paper", Some(id)),
            format!(
                "http://h/oparl/v1/body/1/paper?after={id}&limit={MAX_LIMIT}\
                 &modified_since=2026-01-31T18%3A00%3A00%2B01%3A00&omit_internal=true"
            )
        );
        assert_eq!(ListQuery::default().link("http://h/x", None), "http://h/x");
    }
}
