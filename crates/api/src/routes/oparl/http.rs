//! HTTP around OParl documents: compression, validators (`ETag`, `Last-Modified`) and 304s,
//! and OParl error objects in place of problem documents.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

/// The largest problem document rewritten into an OParl error (they are a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// gzip and brotli for JSON (OParl documents, the public API), nothing else: file contents are
/// already compressed or served in ranges, and tiny bodies are not worth it.
pub fn compression() -> CompressionLayer<impl tower_http::compression::Predicate> {
    let json_only = |_: StatusCode, _: Version, headers: &HeaderMap, _: &axum::http::Extensions| {
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"))
            && headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_none_or(|n| n >= 256)
    };
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .compress_when(json_only)
}

/// An OParl document as a response with its validators: a strong `ETag` (SHA-256 of the body)
/// and `Last-Modified` (the document's `modified`; for a list page, the latest `modified` of
/// its objects).
pub fn document(value: Value) -> Response {
    let last_modified = last_modified(&value);
    let bytes = match serde_json::to_vec(&value) {
        Ok(bytes) => bytes,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&bytes)));
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(at) = last_modified
        && let Ok(value) = HeaderValue::from_str(&http_date(at))
    {
        headers.insert(header::LAST_MODIFIED, value);
    }
    // Caches may keep documents, but must ask whether they are still current.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn last_modified(value: &Value) -> Option<DateTime<Utc>> {
    if let Some(data) = value.get("data").and_then(Value::as_array) {
        return data
            .iter()
            .filter_map(|o| o.get("modified").and_then(parse_time))
            .max();
    }
    value.get("modified").and_then(parse_time)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 IMF-fixdate).
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(text.trim(), "%a, %d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|t| t.and_utc())
}

/// The entity tag without weakness and content-coding suffix: `W/"abc-gzip"` → `abc`.
fn tag_core(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let tag = tag.trim_matches('"');
    tag.strip_suffix("-gzip")
        .or_else(|| tag.strip_suffix("-br"))
        .unwrap_or(tag)
}

/// Whether the client's copy is current: `If-None-Match` (weak comparison, `*` matches) or,
/// without it, `If-Modified-Since` (RFC 9110 § 13.1.3, whole seconds).
fn not_modified(request: &HeaderMap, response: &HeaderMap) -> bool {
    if let Some(matches) = request.get(header::IF_NONE_MATCH) {
        let Some(etag) = response.get(header::ETAG).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let ours = tag_core(etag);
        return matches
            .to_str()
            .unwrap_or_default()
            .split(',')
            .any(|tag| tag.trim() == "*" || tag_core(tag) == ours);
    }
    let since = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date);
    let modified = response
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date);
    matches!((since, modified), (Some(since), Some(modified)) if modified <= since)
}

/// Around the compression layer: a compressed body gets its own strong `ETag` (`"…-gzip"`,
/// `"…-br"`, as one entity tag must not name two different byte sequences), and a GET or HEAD
/// whose `If-None-Match` / `If-Modified-Since` shows the client's copy is current gets 304.
pub async fn conditional(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let conditions = request.headers().clone();
    let mut response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let (Some(encoding), Some(etag)) = (
        encoding,
        response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    ) {
        let tagged = format!("\"{}-{encoding}\"", tag_core(&etag));
        if let Ok(value) = HeaderValue::from_str(&tagged) {
            response.headers_mut().insert(header::ETAG, value);
        }
    }
    let safe = method == axum::http::Method::GET || method == axum::http::Method::HEAD;
    if safe && not_modified(&conditions, response.headers()) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [
            header::ETAG,
            header::LAST_MODIFIED,
            header::CACHE_CONTROL,
            header::VARY,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ] {
            if let Some(value) = response.headers().get(&name) {
                not_modified.headers_mut().insert(name, value.clone());
            }
        }
        return not_modified;
    }
    response
}

/// German messages for end users, by status, where the handler gave none.
fn message_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Die Anfrage enthält einen ungültigen Parameter.",
        404 => "Das angeforderte Objekt existiert nicht.",
        405 => "Die OParl-Schnittstelle kann nur gelesen werden.",
        408 => "Die Anfrage hat zu lange gedauert.",
        410 => "Das Objekt wurde gelöscht.",
        429 => "Zu viele Anfragen; bitte später erneut versuchen.",
        503 => "Der Server ist vorübergehend nicht erreichbar.",
        _ => "Der Server kann die Anfrage gerade nicht beantworten.",
    }
}

/// Every error under `/oparl` as an OParl error object (`type` …/Error, `message` for end users,
/// `debug` for developers), whichever layer produced it (handler, fallback, timeout, panic): the
/// problem documents other layers answer with are rewritten here, keeping status and headers.
pub async fn oparl_errors(request: Request, next: Next) -> Response {
    let is_oparl = request.uri().path().starts_with("/oparl");
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
    if !is_oparl || !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let problem: Value = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let message = problem
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| message_for(parts.status));
    let debug = problem
        .get("detail")
        .or_else(|| problem.get("title"))
        .and_then(Value::as_str);
    let mut error = json!({
        "type": "https://schema.oparl.org/1.1/Error",
        "message": message,
    });
    if let Some(debug) = debug {
        error["debug"] = Value::from(debug);
    }
    let bytes = serde_json::to_vec(&error).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let at = DateTime::parse_from_rfc3339("2026-12-05T14:24:17Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(at), "Sat, 05 Dec 2026 14:24:17 GMT");
        assert_eq!(parse_http_date(&http_date(at)), Some(at));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn entity_tags_compare_weakly_across_codings() {
        assert_eq!(tag_core("\"abc\""), "abc");
        assert_eq!(tag_core("W/\"abc-gzip\""), "abc");
        assert_eq!(tag_core(" \"abc-br\" "), "abc");
    }

    #[test]
    fn lists_are_as_new_as_their_newest_object() {
        let page = json!({"data": [
            {"modified": "2026-01-01T00:00:00+00:00"},
            {"modified": "2026-03-01T00:00:00+01:00"},
        ]});
        assert_eq!(
            last_modified(&page).map(http_date).as_deref(),
            Some("Sat, 28 Feb 2026 23:00:00 GMT")
        );
        assert_eq!(last_modified(&json!({"data": []})), None);
    }
}
