//! The OpenAPI document, generated from the handlers' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plenum API",
        description = "Digital council work: meetings, papers, live sessions and voting. \
                       Errors are RFC 9457 problem documents (`application/problem+json`).",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        super::health::get_health,
        super::health::get_ready,
        super::system::get_system,
        super::auth::login,
        super::auth::verify_second_factor,
        super::auth::begin_enrolment,
        super::auth::confirm_enrolment,
        super::auth::refresh,
        super::auth::logout,
        super::auth::set_up_password,
        super::me::get_me,
        super::me::change_password,
        super::me::list_devices,
        super::me::revoke_device,
        super::me::get_calendar,
        super::me::create_calendar,
        super::me::revoke_calendar,
        super::admin::list_users,
        super::admin::create_user,
        super::admin::create_setup_link,
        super::admin::revoke_sessions,
        super::admin::reset_second_factor,
        super::admin::unlock_second_factor,
        super::persons::list_persons,
        super::persons::update_person,
        super::persons::set_publication,
        super::persons::set_person_email,
        super::persons::set_my_email,
        super::attendance::get_register,
        super::attendance::get_allowances,
        super::attendance::put_allowances,
        super::attendance::create_fraction_meeting,
        super::body_settings::get_settings,
        super::body_settings::put_settings,
        super::live::issue_ticket,
        super::live::get_live,
        super::live::get_events,
        super::live::post_command,
        super::live::get_session_settings,
        super::live::put_session_settings,
        super::notes::list_notes,
        super::notes::create_note,
        super::notes::my_notes,
        super::notes::note_audiences,
        super::notes::search_notes,
        super::notes::get_note,
        super::notes::update_note,
        super::notes::delete_note,
        super::notes::note_history,
        super::annotations::list_annotations,
        super::annotations::create_annotation,
        super::forums::list_forums,
        super::forums::search_posts,
        super::forums::list_threads,
        super::forums::create_thread,
        super::forums::get_thread,
        super::forums::create_post,
        super::forums::pin_thread,
        super::forums::lock_thread,
        super::forums::update_post,
        super::forums::delete_post,
        super::forums::post_history,
        get_openapi,
        super::documents::list_meetings,
        super::documents::get_meeting,
        super::documents::get_agenda_item,
        super::documents::get_paper,
        super::documents::public_meetings,
        super::documents::public_meeting,
        super::documents::public_papers,
        super::documents::public_paper,
        super::clerk::create_meeting,
        super::clerk::update_meeting,
        super::clerk::invite,
        super::clerk::cancel_meeting,
        super::invitations::issue_supplement,
        super::invitations::list_invitations,
        super::invitations::list_deliveries,
        super::invitations::get_invitation_pdf,
        super::invitations::get_public_invitation_pdf,
        super::invitations::list_notifications,
        super::invitations::read_one,
        super::invitations::read_all,
        super::invitations::get_settings,
        super::invitations::put_settings,
        super::clerk::create_agenda_item,
        super::clerk::delete_agenda_item,
        super::clerk::update_agenda_item,
        super::clerk::order_agenda,
        super::decisions::get_proposal,
        super::decisions::get_extract_pdf,
        super::decisions::put_decision,
        super::decisions::delete_decision,
        super::decisions::announce,
        super::decisions::get_public_extract_pdf,
        super::minutes::put_minutes_note,
        super::minutes::get_minutes_draft,
        super::minutes_record::get_record,
        super::minutes_record::create_version,
        super::minutes_record::get_version,
        super::minutes_record::get_pdf,
        super::minutes_record::sign,
        super::minutes_record::publish,
        super::minutes_record::approve,
        super::minutes_record::get_public_minutes,
        super::minutes_record::get_public_pdf,
        super::minutes::get_minutes_draft_pdf,
        super::bundle::get_bundle,
        super::bundle::get_public_bundle,
        super::papers::create_paper,
        super::papers::update_paper,
        super::papers::create_consultation,
        super::papers::delete_consultation,
        super::papers::order_consultations,
        super::ical::get_meetings_ics,
        super::ical::get_personal_ics,
        super::oparl::get_system,
        super::oparl::get_bodies,
        super::oparl::get_body_list,
        super::oparl::get_organization_meetings,
        super::oparl::get_object,
        super::oparl::get_meeting_invitation,
        super::oparl::get_file_access,
        super::oparl::get_file_download,
        super::files::upload_file,
        super::files::delete_file,
        super::files::get_file,
        super::files::get_file_content,
        super::files::get_public_file,
        super::files::get_public_file_content,
        super::search::search_member,
        super::search::search_public,
    ),
    modifiers(&BearerAuth, &CommonResponses),
    components(schemas(crate::Problem)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "system", description = "What this server hosts"),
        (name = "auth", description = "Two-step login: password, then TOTP; refresh; logout"),
        (name = "me", description = "The signed-in user, their devices and their personal calendar feed"),
        (name = "admin", description = "Account administration (admins)"),
        (name = "live", description = "Live sessions: attendance, speakers, polls, ballots (WebSocket at /api/v1/live)"),
        (name = "documents", description = "Meetings, agendas and papers for members; writes for clerks"),
        (name = "minutes", description = "Minutes (Niederschrift): the clerk's notes per item and the draft of the public and the non-public part"),
        (name = "public", description = "The public portal: public meetings, agendas and papers (no login)"),
        (name = "files", description = "Files (Anlagen): upload, delete, download"),
        (name = "search", description = "Full-text search (German stemming, prefix matches)"),
        (name = "notes", description = "Notes on papers, agenda items and files: private or shared with an organization"),
        (name = "forums", description = "Organization forums: threads, posts, unread counts (members only)"),
        (name = "calendar", description = "iCalendar feeds: public, and personal (by a secret URL)"),
        (name = "oparl", description = "OParl 1.1: the public council information for machines"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme: the access token from `POST /api/v1/auth/totp`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Responses every operation of a kind can give, added where the annotation does not name them,
/// so the document lists every status code the server can answer:
///
/// - every operation: 408 (the request deadline), 500 and 503 (the database is unreachable);
/// - with path parameters: 400 `invalid-path` and 404;
/// - with query parameters: 400 `invalid-query`;
/// - with a JSON body: 400, 413, 415 and 422 (`invalid-body`: syntax, size, media type, shape);
/// - behind the bearer token: 401.
///
/// Every response whose body is a [`crate::Problem`] is declared as `application/problem+json`,
/// the media type the server sends.
struct CommonResponses;

impl CommonResponses {
    /// `oparl`: an operation under `/oparl`, whose errors are OParl error objects
    /// (`application/json`), not problem documents.
    fn add(operation: &mut utoipa::openapi::path::Operation, oparl: bool) {
        use utoipa::openapi::path::ParameterIn;
        let params = operation.parameters.as_deref().unwrap_or_default();
        let has_path = params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path));
        let has_query = params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query));
        let has_json_body = operation
            .request_body
            .as_ref()
            .is_some_and(|body| body.content.contains_key("application/json"));
        let bearer = operation
            .security
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .is_some_and(|s| s.to_string().contains("\"bearer\""));

        let mut wanted: Vec<(&str, &str)> = vec![
            ("408", "The request took too long"),
            ("500", "Internal server error"),
            ("503", "The database is unavailable; retry later"),
        ];
        if has_path {
            wanted.push(("400", "Malformed path parameter"));
            wanted.push(("404", "Not found"));
        }
        if has_query {
            wanted.push(("400", "Malformed or out-of-range query parameter"));
        }
        if has_json_body {
            wanted.push(("400", "Malformed JSON body"));
            wanted.push(("413", "Body too large"));
            wanted.push(("415", "Body is not `application/json`"));
            wanted.push((
                "422",
                "Body does not have the expected shape, or breaks a rule",
            ));
        }
        if bearer {
            wanted.push(("401", "Not signed in, or the token is invalid or expired"));
        }
        let responses = &mut operation.responses.responses;
        for (status, description) in wanted {
            responses.entry(status.to_owned()).or_insert_with(|| {
                if oparl {
                    oparl_error_response(description).into()
                } else {
                    problem_response(description).into()
                }
            });
        }
        if oparl {
            return;
        }
        for response in responses.values_mut() {
            if let utoipa::openapi::RefOr::T(response) = response {
                problem_media_type(response);
            }
        }
    }
}

/// A response with a problem document.
fn problem_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// A response with an OParl error object (`application/json`).
fn oparl_error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("OparlErrorObject")))
                .build(),
        )
        .build()
}

/// The media type of problem documents (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// Declares a `Problem` body as `application/problem+json` instead of `application/json`.
fn problem_media_type(response: &mut utoipa::openapi::Response) {
    let is_problem = response.content.get("application/json").is_some_and(|c| {
        matches!(&c.schema, Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"))
    });
    if is_problem && let Some(content) = response.content.shift_remove("application/json") {
        response.content.insert(PROBLEM_JSON.to_owned(), content);
    }
}

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let oparl = path.starts_with("/oparl");
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                CommonResponses::add(operation, oparl);
            }
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(get_openapi))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
