//! `GET /api/v1/meetings.ics`: every meeting that is not cancelled, as a public iCalendar feed
//! (RFC 5545) for calendar apps. Times are in UTC; lines are folded at 75 octets.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use plenum_domain::{Location, LocationId, Meeting, MeetingState};
use plenum_store::query;

use crate::routes::oparl::{Base, OparlError};
use crate::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/meetings.ics", get(get_meetings_ics))
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
    let body = calendar(&meetings, &locations, base.as_deref());
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline; filename=\"sitzungen.ics\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The calendar text. `oparl_base` (`http://host/oparl/v1`) adds each meeting's OParl URL.
pub fn calendar(
    meetings: &[Meeting],
    locations: &HashMap<LocationId, Location>,
    oparl_base: Option<&str>,
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
    line("X-WR-CALNAME:Sitzungen".into());
    for meeting in meetings {
        if meeting.state == MeetingState::Cancelled || meeting.meta.is_deleted() {
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
            _ => "CONFIRMED",
        };
        line(format!("STATUS:{status}"));
        if let Some(base) = oparl_base {
            line(format!("URL:{base}/meeting/{}", meeting.id));
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
