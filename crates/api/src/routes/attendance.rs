//! The attendance register (Anwesenheitsliste) and the attendance allowance (Sitzungsgeld).
//!
//! Who attended what comes from two sources: the closed meetings of councils and committees run
//! live in Plenum (a member counts as attending when the session recorded them present, remote
//! or as having left early — the same rule as OParl's `Meeting.participant`), and the meetings
//! of fractions and groups, which their chair records afterwards
//! (`POST /api/v1/fraction-meetings`). Each attended meeting is paid the allowance of its
//! organization's kind (`council`, `committee`, `fraction`; a group's meetings count as
//! `fraction`), which an admin sets per body. Clerks and admins read the register as JSON or as
//! CSV for the payroll office. Every write is audited.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use plenum_domain::{Action, AttendanceStatus, BodyId, Name, OrganizationKind, PersonId, Resource};
use plenum_store::attendance::{self, FractionMeeting};
use plenum_store::repo;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::clerk::{audit, begin, commit, invalid};
use super::documents::{Directory, Viewer};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppQuery};
use crate::{ApiError, AppState, Problem, Result, access};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attendance-register", get(get_register))
        .route(
            "/attendance-allowances",
            get(get_allowances).put(put_allowances),
        )
        .route("/fraction-meetings", post(create_fraction_meeting))
}

/// The kinds of organization an allowance is set for.
pub const KINDS: [&str; 3] = ["council", "committee", "fraction"];

/// The allowance kind of an organization's meetings (none for the administration and others).
fn allowance_kind(kind: OrganizationKind) -> Option<&'static str> {
    match kind {
        OrganizationKind::Council => Some("council"),
        OrganizationKind::Committee => Some("committee"),
        OrganizationKind::Fraction | OrganizationKind::Group => Some("fraction"),
        OrganizationKind::Administration | OrganizationKind::Other => None,
    }
}

/// The one hosted body (the register and the allowances are per body), or the one asked for.
pub(crate) async fn body_of(state: &AppState, asked: Option<Uuid>) -> Result<BodyId> {
    let bodies = repo::bodies::list(&state.db, false).await?;
    match (asked, bodies.as_slice()) {
        (Some(id), _) if bodies.iter().any(|b| b.id.as_uuid() == id) => Ok(BodyId::from_uuid(id)),
        // A well-formed id of no hosted body: nothing there, as for any unknown id.
        (Some(_), _) => Err(ApiError::Problem(Box::new(
            Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found")
                .with_detail("No body with this body_id is hosted here."),
        ))),
        (None, [one]) => Ok(one.id),
        (None, []) => Err(ApiError::NotFound),
        (None, _) => Err(invalid("body_id", "required: more than one body")),
    }
}

// --- Allowances --------------------------------------------------------------------------------

/// The allowance per attended meeting, in cents, by kind of organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Allowances {
    /// A council meeting (Ratssitzung), e.g. `4000` for 40,00 €.
    #[schema(minimum = 0, maximum = 100_000_000)]
    #[serde(deserialize_with = "whole_cents")]
    pub council: i64,
    /// A committee meeting (Ausschusssitzung).
    #[schema(minimum = 0, maximum = 100_000_000)]
    #[serde(deserialize_with = "whole_cents")]
    pub committee: i64,
    /// A fraction's or group's meeting (Fraktionssitzung).
    #[schema(minimum = 0, maximum = 100_000_000)]
    #[serde(deserialize_with = "whole_cents")]
    pub fraction: i64,
}

/// An amount in cents: a whole number, also when a client writes it as `653.0`.
fn whole_cents<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<i64, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value.fract() != 0.0 || !value.is_finite() || value.abs() > 1e15 {
        return Err(serde::de::Error::custom("a whole number of cents"));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(value as i64)
}

impl Allowances {
    fn from_map(map: &HashMap<String, i64>) -> Self {
        let get = |kind: &str| map.get(kind).copied().unwrap_or(0);
        Self {
            council: get("council"),
            committee: get("committee"),
            fraction: get("fraction"),
        }
    }

    fn of(&self, kind: &str) -> i64 {
        match kind {
            "council" => self.council,
            "committee" => self.committee,
            "fraction" => self.fraction,
            _ => 0,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BodyQuery {
    /// The body; may be left out when only one body is hosted.
    pub body_id: Option<Uuid>,
}

/// The allowance per attended meeting, by kind of organization (kinds never set: 0). Clerks and
/// admins.
#[utoipa::path(get, path = "/api/v1/attendance-allowances", tag = "admin",
    security(("bearer" = [])), params(BodyQuery),
    responses((status = 200, body = Allowances), (status = 401, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn get_allowances(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<BodyQuery>,
) -> Result<Json<Allowances>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    access::require(&viewer.actor, Action::View, &Resource::AttendanceRegister)?;
    let body = body_of(&state, query.body_id).await?;
    let map = attendance::allowances(&state.db, body).await?;
    Ok(Json(Allowances::from_map(&map)))
}

/// Sets the allowance per attended meeting for every kind (in cents, 0 to 100000). Admins only
/// (clerks 403). Audited as `attendance.allowances_set` with the old and new amounts.
#[utoipa::path(put, path = "/api/v1/attendance-allowances", tag = "admin",
    security(("bearer" = [])), params(BodyQuery), request_body = Allowances,
    responses((status = 200, body = Allowances), (status = 400, body = crate::Problem),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn put_allowances(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<BodyQuery>,
    AppJson(request): AppJson<Allowances>,
) -> Result<Json<Allowances>> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    access::require(&viewer.actor, Action::Update, &Resource::AttendanceRegister)?;
    for kind in KINDS {
        let amount = request.of(kind);
        if !(0..=100_000).contains(&amount) {
            return Err(invalid(
                "amount",
                format!("{kind}: must be between 0 and 100000 cents"),
            ));
        }
    }
    let body = body_of(&state, query.body_id).await?;
    let txn = begin(&state).await?;
    let before = Allowances::from_map(&attendance::allowances(&txn, body).await?);
    if before != request {
        let now = state.now();
        for kind in KINDS {
            attendance::set_allowance(&txn, body, kind, request.of(kind), now).await?;
        }
        audit(
            &txn,
            &state,
            &auth,
            "attendance.allowances_set",
            ("body", body.as_uuid()),
            serde_json::json!({"before": before, "after": request}),
        )
        .await?;
    }
    commit(&state, txn).await?;
    Ok(Json(request))
}

// --- Fraction meetings -------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FractionMeetingCreate {
    /// The fraction or group.
    pub organization_id: Uuid,
    pub date: NaiveDate,
    /// E.g. `Fraktionssitzung`.
    pub title: String,
    /// Who attended: distinct persons with a membership in the organization on that day, at
    /// most 200.
    pub attendee_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FractionMeetingView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub date: NaiveDate,
    pub title: String,
    pub attendee_ids: Vec<Uuid>,
}

/// Records a meeting of a fraction or group with its attendees, for the attendance register.
/// The organization's chair or deputy chair only (others 403; the administration has no say in
/// a fraction's affairs). Audited as `fraction_meeting.recorded`.
#[utoipa::path(post, path = "/api/v1/fraction-meetings", tag = "documents",
    security(("bearer" = [])), request_body = FractionMeetingCreate,
    responses((status = 201, body = FractionMeetingView), (status = 400, body = crate::Problem),
        (status = 401, body = crate::Problem), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn create_fraction_meeting(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(request): AppJson<FractionMeetingCreate>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    let dir = Directory::load(&state.db).await?;
    let organization = plenum_domain::OrganizationId::from_uuid(request.organization_id);
    let org = match dir.organizations.get(&organization) {
        Some(o)
            if !o.meta.is_deleted()
                && matches!(o.kind, OrganizationKind::Fraction | OrganizationKind::Group) =>
        {
            o.clone()
        }
        // No such fraction or group (an unknown id, or a body that is not one): 404.
        _ => return Err(crate::ApiError::NotFound),
    };
    match access::require(
        &viewer.actor,
        Action::Create,
        &Resource::Meeting {
            organization: dir.organization_ref(organization)?,
            public: false,
        },
    ) {
        Err(ApiError::NotFound) => return Err(ApiError::Forbidden),
        other => other?,
    }
    let title = Name::parse(&request.title).map_err(|_| {
        invalid(
            "title",
            "must be one line of 1 to 200 characters, e.g. Fraktionssitzung",
        )
    })?;
    if request.attendee_ids.len() > 200 {
        return Err(invalid("attendee_ids", "at most 200 persons"));
    }
    let members: Vec<PersonId> = repo::memberships::list_by_organization(&state.db, org.id, false)
        .await?
        .iter()
        .filter(|m| m.is_active_on(request.date))
        .map(|m| m.person_id)
        .collect();
    let mut attendees = Vec::with_capacity(request.attendee_ids.len());
    for id in &request.attendee_ids {
        let id = PersonId::from_uuid(*id);
        if attendees.contains(&id) {
            return Err(invalid("attendee_ids", "a person is named twice"));
        }
        if !members.contains(&id) {
            return Err(invalid(
                "attendee_ids",
                "not a member of the organization on that day",
            ));
        }
        attendees.push(id);
    }
    let meeting = FractionMeeting {
        id: Uuid::new_v4(),
        organization_id: org.id,
        date: request.date,
        title: title.as_str().to_owned(),
        created: state.now(),
        created_by: auth.user.id,
        attendees,
    };
    let txn = begin(&state).await?;
    attendance::record_fraction_meeting(&txn, &meeting).await?;
    audit(
        &txn,
        &state,
        &auth,
        "fraction_meeting.recorded",
        ("fraction_meeting", meeting.id),
        serde_json::json!({"organization": org.id.as_uuid(), "date": meeting.date, "attendees": meeting.attendees.len()}),
    )
    .await?;
    commit(&state, txn).await?;
    let view = FractionMeetingView {
        id: meeting.id,
        organization_id: org.id.as_uuid(),
        date: meeting.date,
        title: meeting.title,
        attendee_ids: meeting.attendees.iter().map(|p| p.as_uuid()).collect(),
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

// --- The register ------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// First day (Europe/Berlin), e.g. `2026-11-01`.
    pub from: NaiveDate,
    /// Last day, included; at most 366 days after `from`.
    pub to: NaiveDate,
    /// `json` (default) or `csv` (`;`-separated, UTF-8 with BOM, amounts with a decimal comma:
    /// one line per member with their counts and the amount due).
    pub format: Option<String>,
    /// The body; may be left out when only one body is hosted.
    pub body_id: Option<Uuid>,
}

/// One attended meeting.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendedMeeting {
    pub date: NaiveDate,
    /// The meeting's name, or the title the fraction recorded.
    pub name: String,
    pub organization: String,
    /// `council`, `committee` or `fraction`.
    pub kind: &'static str,
    pub amount_cents: i64,
}

/// One member's line of the register.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterLine {
    pub person_id: Uuid,
    pub family_name: String,
    pub given_name: String,
    /// As printed: `Dr. Anna Schmidt`.
    pub name: String,
    pub council: u32,
    pub committee: u32,
    pub fraction: u32,
    pub total_cents: i64,
    /// By date.
    pub meetings: Vec<AttendedMeeting>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub allowances: Allowances,
    /// By family and given name; members who attended nothing in the period are left out.
    pub lines: Vec<RegisterLine>,
    pub total_cents: i64,
}

/// The attendance register for a period: per member the meetings attended (closed council and
/// committee meetings run in Plenum, fraction meetings as recorded) and the allowance due. JSON,
/// or CSV for the payroll office with `format=csv`. Clerks and admins (members 404).
#[utoipa::path(get, path = "/api/v1/attendance-register", tag = "admin",
    security(("bearer" = [])), params(RegisterQuery),
    responses((status = 200, body = Register, content_type = "application/json"),
        (status = 200, description = "`format=csv`", body = String, content_type = "text/csv"),
        (status = 400, body = crate::Problem), (status = 401, body = crate::Problem),
        (status = 404, body = crate::Problem), (status = 422, body = crate::Problem)))]
pub async fn get_register(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<RegisterQuery>,
) -> Result<Response> {
    let viewer = Viewer::member(&state, &auth.user).await?;
    access::require(&viewer.actor, Action::View, &Resource::AttendanceRegister)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(invalid("format", "json or csv")),
    };
    if query.to < query.from {
        return Err(invalid("to", "must not be before from"));
    }
    if (query.to - query.from).num_days() > 366 {
        return Err(invalid("to", "at most 366 days after from"));
    }
    let body = body_of(&state, query.body_id).await?;
    let register = register(&state, body, query.from, query.to).await?;
    if !csv {
        return Ok(Json(register).into_response());
    }
    let mut response = to_csv(&register).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let file = format!(
        "attachment; filename=\"sitzungsgeld-{}-{}.csv\"",
        query.from, query.to
    );
    if let Ok(value) = HeaderValue::from_str(&file) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The last Sunday of a month, at 01:00 UTC (when German clocks change).
fn last_sunday_1am(year: i32, month: u32) -> DateTime<Utc> {
    let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .and_then(|d| d.pred_opt())
        .unwrap_or_default();
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt().unwrap_or(day);
    }
    day.and_time(NaiveTime::from_hms_opt(1, 0, 0).unwrap_or(NaiveTime::MIN))
        .and_utc()
}

/// German civil time's offset from UTC at `t`: CEST (+2 h) from the last Sunday of March to the
/// last Sunday of October, else CET (+1 h).
fn german_offset(t: DateTime<Utc>) -> Duration {
    let year = t.year();
    if t >= last_sunday_1am(year, 3) && t < last_sunday_1am(year, 10) {
        Duration::hours(2)
    } else {
        Duration::hours(1)
    }
}

/// The day of `t` in Germany.
fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + german_offset(t)).date_naive()
}

/// Midnight of `day` in Germany, as UTC.
fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_time(NaiveTime::MIN).and_utc();
    // The offset at local midnight equals the offset one or two hours before it in UTC; clocks
    // never change at midnight.
    naive - german_offset(naive - Duration::hours(2))
}

/// Who took part according to a stored live state: present, remote, or left early.
fn took_part(state: &plenum_store::live::StateParts) -> Vec<PersonId> {
    match state.attendance() {
        Ok(attendance) => attendance
            .into_iter()
            .filter(|(_, a)| {
                matches!(
                    a.status,
                    AttendanceStatus::Present
                        | AttendanceStatus::Remote
                        | AttendanceStatus::LeftEarly
                )
            })
            .map(|(p, _)| p)
            .collect(),
        Err(_) => {
            tracing::warn!("a stored live state could not be read");
            Vec::new()
        }
    }
}

async fn register(
    state: &AppState,
    body: BodyId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Register> {
    let allowances = Allowances::from_map(&attendance::allowances(&state.db, body).await?);
    let dir = Directory::load(&state.db).await?;
    let start = local_midnight(from);
    let end = local_midnight(to.succ_opt().unwrap_or(to));
    // (person, attended meeting)
    let mut attended: Vec<(PersonId, AttendedMeeting)> = Vec::new();
    for meeting in attendance::closed_meetings(&state.db, start, end).await? {
        let Some(org) = dir.organizations.get(&meeting.organization_id) else {
            continue;
        };
        let Some(kind) = allowance_kind(org.kind).filter(|_| org.body_id == body) else {
            continue;
        };
        let Some(stored) = &meeting.state else {
            continue;
        };
        for person in took_part(stored) {
            attended.push((
                person,
                AttendedMeeting {
                    date: local_date(meeting.start),
                    name: meeting.name.clone(),
                    organization: org.name.as_str().to_owned(),
                    kind,
                    amount_cents: allowances.of(kind),
                },
            ));
        }
    }
    for meeting in attendance::fraction_meetings(&state.db, from, to).await? {
        let Some(org) = dir.organizations.get(&meeting.organization_id) else {
            continue;
        };
        if org.body_id != body {
            continue;
        }
        for person in &meeting.attendees {
            attended.push((
                *person,
                AttendedMeeting {
                    date: meeting.date,
                    name: meeting.title.clone(),
                    organization: org.name.as_str().to_owned(),
                    kind: "fraction",
                    amount_cents: allowances.fraction,
                },
            ));
        }
    }
    let mut lines: HashMap<PersonId, RegisterLine> = HashMap::new();
    for (person_id, meeting) in attended {
        let line = match lines.entry(person_id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let Ok(person) = repo::persons::get(&state.db, person_id).await else {
                    continue;
                };
                entry.insert(RegisterLine {
                    person_id: person_id.as_uuid(),
                    family_name: person.family_name.as_str().to_owned(),
                    given_name: person.given_name.as_str().to_owned(),
                    name: person.full_name(),
                    council: 0,
                    committee: 0,
                    fraction: 0,
                    total_cents: 0,
                    meetings: Vec::new(),
                })
            }
        };
        match meeting.kind {
            "council" => line.council += 1,
            "committee" => line.committee += 1,
            _ => line.fraction += 1,
        }
        line.total_cents += meeting.amount_cents;
        line.meetings.push(meeting);
    }
    let mut lines: Vec<RegisterLine> = lines.into_values().collect();
    for line in &mut lines {
        line.meetings
            .sort_by(|a, b| (a.date, &a.name).cmp(&(b.date, &b.name)));
    }
    lines.sort_by(|a, b| {
        (&a.family_name, &a.given_name, a.person_id).cmp(&(
            &b.family_name,
            &b.given_name,
            b.person_id,
        ))
    });
    let total_cents = lines.iter().map(|l| l.total_cents).sum();
    Ok(Register {
        from,
        to,
        allowances,
        lines,
        total_cents,
    })
}

/// `4000` → `40,00`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02}", cents / 100, cents % 100)
}

/// A CSV field: quoted when it holds `;`, `"` or a line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so spreadsheets do not run it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The payroll office's CSV: BOM, `;`, CRLF, one line per member.
fn to_csv(register: &Register) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(
        "Nachname;Vorname;Personen-ID;Von;Bis;Ratssitzungen;Ausschusssitzungen;Fraktionssitzungen;Betrag (EUR)\r\n",
    );
    for line in &register.lines {
        out.push_str(&format!(
            "{};{};{};{};{};{};{};{};{}\r\n",
            field(&line.family_name),
            field(&line.given_name),
            line.person_id,
            register.from.format("%d.%m.%Y"),
            register.to.format("%d.%m.%Y"),
            line.council,
            line.committee,
            line.fraction,
            euros(line.total_cents),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_days_follow_summer_time() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // 23:30 UTC in winter is 00:30 the next day in Germany; in summer 01:30.
        assert_eq!(
            local_date(t("2026-12-04T23:30:00Z")).to_string(),
            "2026-12-05"
        );
        assert_eq!(
            local_date(t("2026-07-04T22:30:00Z")).to_string(),
            "2026-07-05"
        );
        assert_eq!(
            local_date(t("2026-07-04T21:30:00Z")).to_string(),
            "2026-07-04"
        );
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(local_midnight(day), t("2026-12-04T23:00:00Z"));
        let day = NaiveDate::from_ymd_opt(2026, 7, 5).unwrap();
        assert_eq!(local_midnight(day), t("2026-07-04T22:00:00Z"));
        // 2026: summer time from 29 March to 25 October.
        assert_eq!(last_sunday_1am(2026, 3), t("2026-03-29T01:00:00Z"));
        assert_eq!(last_sunday_1am(2026, 10), t("2026-10-25T01:00:00Z"));
    }

    #[test]
    fn euros_have_a_decimal_comma() {
        assert_eq!(euros(4000), "40,00");
        assert_eq!(euros(5), "0,05");
        assert_eq!(euros(123_456), "1234,56");
        assert_eq!(euros(0), "0,00");
    }

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("Schmidt"), "Schmidt");
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("Sa\"rah"), "\"Sa\"\"rah\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
    }
}
