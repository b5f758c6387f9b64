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
        super::live::issue_ticket,
        super::live::get_live,
        super::live::get_events,
        super::live::post_command,
        super::notes::list_notes,
        super::notes::create_note,
        super::notes::my_notes,
        super::notes::search_notes,
        super::notes::get_note,
        super::notes::update_note,
        super::notes::delete_note,
        super::notes::note_history,
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
        super::clerk::create_agenda_item,
        super::clerk::delete_agenda_item,
        super::clerk::update_agenda_item,
        super::clerk::order_agenda,
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
        super::oparl::get_file_access,
        super::oparl::get_file_download,
        super::files::upload_file,
        super::files::delete_file,
        super::files::get_file_content,
        super::files::get_public_file_content,
        super::search::search_member,
        super::search::search_public,
    ),
    modifiers(&BearerAuth),
    components(schemas(crate::Problem)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "system", description = "What this server hosts"),
        (name = "auth", description = "Two-step login: password, then TOTP; refresh; logout"),
        (name = "me", description = "The signed-in user, their devices and their personal calendar feed"),
        (name = "admin", description = "Account administration (admins)"),
        (name = "live", description = "Live sessions: attendance, speakers, polls, ballots (WebSocket at /api/v1/live)"),
        (name = "documents", description = "Meetings, agendas and papers for members; writes for clerks"),
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

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(get_openapi))
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 document")))]
pub async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
