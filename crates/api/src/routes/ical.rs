//! iCalendar feeds (RFC 5545) for calendar apps. Times are in UTC; lines are folded at 75 octets.
//!
//! - `GET /api/v1/meetings.ics`: every meeting that is not cancelled, public.
//! - `GET /api/v1/calendar/{token}.ics`: a member's personal feed, the meetings of their own
//!   meeting list (`GET /api/v1/meetings?when=all`). The token in the URL is the credential
//!   (calendar apps send no other); it is created, shown once and revoked under
//!   `/api/v1/me/calendar`. Events carry the meeting's name, time, location, state and a link to
//!   the web app, never agenda text.

use std::collections::HashMap;

use crate::json::AppPath;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use plenum_domain::{Location, LocationId, Meeting, MeetingState};
use plenum_store::auth::calendar_feeds;
use plenum_store::{StoreError, query, repo};

use crate::routes::auth::sha256_hex;
use crate::routes::documents::{Viewer, When, member_meetings};
use crate::routes::oparl::{Base, OparlError, Origin};
use crate::{ApiError, AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings.ics", get(get_meetings_ics))
        .route("/calendar/{file}", get(get_personal_ics))
}

/// What a feed says besides its meetings.
pub struct Feed<'a> {
    /// `X-WR-CALNAME`, the name calendar apps show.
    pub name: &'a str,
    /// List cancelled meetings (as `STATUS:CANCELLED`) instead of leaving them out, so a
    /// subscribed calendar learns of the cancellation.
    pub cancelled: bool,
    /// The event's `URL`, if any.
    pub url: &'a dyn Fn(&Meeting) -> Option<String>,
}

/// A calendar response with the given `Cache-Control`.
fn ics_response(body: String, filename: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("inline; filename=\"{filename}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("inline")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// All meetings that are not cancelled, of every body, as an iCalendar feed.
#[utoipa::path(get, path = "/api/v1/meetings.ics", tag = "calendar",
    responses(
        (status = 200, description = "iCalendar feed (RFC 5545)", content_type = "text/calendar"),
        (status = 503, description = "Database unreachable", body = crate::Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn get_meetings_ics(
    State(state): State<AppState>,
    base: std::result::Result<Base, OparlError>,
) -> Result<Response> {
    let (meetings, locations) = query::calendar(&state.db).await?;
    let locations: HashMap<LocationId, Location> =
        locations.into_iter().map(|l| (l.id, l)).collect();
    let base = base.ok().map(|Base(base)| base);
    let url = |meeting: &Meeting| {
        base.as_deref()
            .map(|base| format!("{base}/meeting/{}", meeting.id))
    };
    let feed = Feed {
        name: "Sitzungen",
        cancelled: false,
        url: &url,
    };
    let body = calendar(&meetings, &locations, &feed);
    Ok(ics_response(body, "sitzungen.ics", "no-cache"))
}

/// A member's personal feed: the meetings of their meeting list, non-public organizations
/// included, with name, time, location, state and a link to the web app only. No
/// `Authorization` header: the token in the URL is the credential. Unknown and revoked tokens,
/// and tokens of deleted accounts, get the same 404.
#[utoipa::path(get, path = "/api/v1/calendar/{token}.ics", tag = "calendar",
    params(("token" = String, Path, description = "The feed token from `POST /api/v1/me/calendar`")),
    responses(
        (status = 200, description = "iCalendar feed (RFC 5545)", content_type = "text/calendar",
            headers(("Cache-Control" = String, description = "`private, no-store`"),
                ("Referrer-Policy" = String, description = "`no-referrer`"))),
        (status = 404, description = "Unknown or revoked token", body = crate::Problem,
            content_type = "application/problem+json"),
        (status = 503, description = "Database unreachable", body = crate::Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn get_personal_ics(
    State(state): State<AppState>,
    AppPath(file): AppPath<String>,
    origin: std::result::Result<Origin, OparlError>,
) -> Response {
    let origin = origin.ok().map(|Origin(origin)| origin);
    let mut response = match personal_feed(&state, &file, origin.as_deref()).await {
        Ok(body) => ics_response(body, "plenum.ics", "private, no-store"),
        Err(err) => err.into_response(),
    };
    // The URL is a credential: no cache keeps the answer, no page learns the URL as a referrer.
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn personal_feed(state: &AppState, file: &str, origin: Option<&str>) -> Result<String> {
    let token = file.strip_suffix(".ics").ok_or(ApiError::NotFound)?;
    let feed = calendar_feeds::find_active(&state.db, &sha256_hex(token.as_bytes()))
        .await?
        .ok_or(ApiError::NotFound)?;
    let user = match repo::users::get_live(&state.db, feed.user_id).await {
        Ok(user) => user,
        Err(StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
        Err(err) => return Err(err.into()),
    };
    calendar_feeds::touch(&state.db, feed.id, state.now()).await?;
    let viewer = Viewer::member(state, &user).await?;
    let (dir, meetings) = member_meetings(state, &viewer, When::All).await?;
    let meetings: Vec<Meeting> = meetings.into_iter().map(|(m, _)| m).collect();
    let url = |meeting: &Meeting| origin.map(|o| format!("{o}/#/meetings/{}", meeting.id));
    let feed = Feed {
        name: "Meine Sitzungen",
        cancelled: true,
        url: &url,
    };
    Ok(calendar(&meetings, &dir.locations, &feed))
}

/// The calendar text.
pub fn calendar(
    meetings: &[Meeting],
    locations: &HashMap<LocationId, Location>,
    feed: &Feed<'_>,
) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        fold_into(&mut out, &text);
    };
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line(format!(
        "PRODID:-//Plenum//Plenum {}//DE",
        env!("CARGO_PKG_VERSION")
    ));
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape(feed.name)));
    for meeting in meetings {
        let cancelled = meeting.state == MeetingState::Cancelled;
        if (cancelled && !feed.cancelled) || meeting.meta.is_deleted() {
            continue;
        }
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}@plenum", meeting.id));
        line(format!("DTSTAMP:{}", utc(meeting.meta.modified)));
        line(format!("CREATED:{}", utc(meeting.meta.created)));
        line(format!("LAST-MODIFIED:{}", utc(meeting.meta.modified)));
        line(format!("DTSTART:{}", utc(meeting.start)));
        if let Some(end) = meeting.end {
            line(format!("DTEND:{}", utc(end)));
        }
        line(format!("SUMMARY:{}", escape(meeting.name.as_str())));
        if let Some(location) = meeting.location_id.and_then(|l| locations.get(&l)) {
            line(format!("LOCATION:{}", escape(&location_text(location))));
        }
        let status = match meeting.state {
            MeetingState::Planned => "TENTATIVE",
            MeetingState::Cancelled => "CANCELLED",
            _ => "CONFIRMED",
        };
        line(format!("STATUS:{status}"));
        if let Some(url) = (feed.url)(meeting) {
            line(format!("URL:{url}"));
        }
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `Rathaus Musterstadt, Ratssaal, Marktplatz 1, 12345 Musterstadt`
fn location_text(location: &Location) -> String {
    let mut parts = vec![location.description.as_str().to_owned()];
    if let Some(street) = &location.street_address {
        parts.push(street.as_str().to_owned());
    }
    let town = [&location.postal_code, &location.locality]
        .into_iter()
        .flatten()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if !town.is_empty() {
        parts.push(town);
    }
    parts.join(", ")
}

/// `20261123T180000Z`
fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545, 3.3.11): backslash, semicolon, comma and newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` with CRLF, folded so that no line exceeds 75 octets (RFC 5545, 3.1); a
/// continuation line starts with one space, and UTF-8 characters are never split.
pub fn fold_into(out: &mut String, line: &str) {
    const MAX: usize = 75;
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > MAX {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!(
            "SUMMARY:{}",
            "Ausschuss für Bau und Umwelt – Sitzung ".repeat(5)
        );
        fold_into(&mut out, &line);
        let lines: Vec<&str> = out.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 2);
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= 75, "line {i} has {} octets", l.len());
            assert_eq!(i > 0, l.starts_with(' '));
        }
        let unfolded: String = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{line}\r\n"));
    }
}
