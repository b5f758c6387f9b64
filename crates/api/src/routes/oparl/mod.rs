//! OParl 1.1 under `/oparl/v1`: the public council information, for machines.
//!
//! Layout (our choice; clients follow links, they never build URLs):
//!
//! | path | what |
//! |---|---|
//! | `/oparl/v1` | the `System` (also at `/oparl/v1/system`, which redirects) |
//! | `/oparl/v1/body` | list of bodies |
//! | `/oparl/v1/body/{id}/{list}` | the body's lists: `organization`, `person`, `meeting`, `paper`, `agendaItem`, `consultation`, `file`, `location`, `legislativeTerm`, `membership` |
//! | `/oparl/v1/organization/{id}/meeting` | an organization's meetings |
//! | `/oparl/v1/meeting/{id}/invitation` | a meeting's invitation (`Meeting.invitation`, a File) |
//! | `/oparl/v1/{type}/{id}` | every object at its own URL (its `id`) |
//! | `/oparl/v1/file/{id}/access`, `…/download` | a file's bytes, inline or as attachment |
//!
//! Only public data is served (see `plenum_store::query`). Every response carries
//! `Access-Control-Allow-Origin: *`; errors are OParl error objects (see `http::oparl_errors`).
//! JSON is compressed (gzip, brotli) and carries `ETag` and `Last-Modified` (304 on a match).

mod http;
mod params;
mod render;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use plenum_domain::*;
use plenum_store::query::{self, MeetingScope, Page};
use serde_json::Value;
use tower_http::cors::{Any, CorsLayer};
use uuid::Uuid;

pub use crate::origin::Origin;
use crate::{AppState, Problem};
pub use params::{Base, OparlError, OparlPath};
use params::{ListQuery, RawListQuery, oparl_problem};
pub use render::date_time;
use render::{Ctx, Kind};

type Result<T, E = OparlError> = std::result::Result<T, E>;
type ListParams = Result<Query<RawListQuery>, QueryRejection>;

/// Everything under `/oparl/v1` (full paths, to be merged), with CORS open to every origin as
/// OParl requires.
pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/oparl/v1", oparl_router())
        .route("/oparl/v1/", get(redirect_to_system))
        .layer(http::compression())
        .layer(axum::middleware::from_fn(http::conditional))
        .layer(CorsLayer::new().allow_origin(Any).allow_methods([
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
        ]))
}

/// An OParl error object (the OpenAPI document's name for it): every error under `/oparl`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct OparlErrorObject {
    /// Always `https://schema.oparl.org/1.1/Error`.
    r#type: String,
    /// For end users, in German.
    message: String,
    /// For developers: what exactly was wrong.
    debug: Option<String>,
}

pub use http::{compression, oparl_errors};

fn oparl_router() -> Router<AppState> {
    Router::new()
        .route("/", get(get_system))
        .route("/system", get(redirect_to_system))
        .route("/body", get(get_bodies))
        .route("/body/{id}/{list}", get(get_body_list))
        .route("/organization/{id}/meeting", get(get_organization_meetings))
        .route("/meeting/{id}/invitation", get(get_meeting_invitation))
        .route("/file/{id}/access", get(get_file_access))
        .route("/file/{id}/download", get(get_file_download))
        .route("/{kind}/{id}", get(get_object))
        .fallback(|| async { OparlError::not_found() })
        .method_not_allowed_fallback(|| async {
            oparl_problem(
                Problem::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                ),
                "Die OParl-Schnittstelle kann nur gelesen werden.",
            )
        })
}

/// An OParl document with its validators (`ETag`, `Last-Modified`).
fn json(value: Value) -> Response {
    http::document(value)
}

fn parse_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| OparlError::not_found())
}

/// The OParl entry point: the `System` object.
#[utoipa::path(get, path = "/oparl/v1", tag = "oparl",
    responses((status = 200, description = "The OParl 1.1 System object", content_type = "application/json")))]
pub async fn get_system(State(state): State<AppState>, Base(base): Base) -> Result<Response> {
    let ctx = Ctx {
        base,
        omit_internal: false,
        license: state.config.license.clone(),
        system: state.config.system.clone(),
    };
    let bodies = query::bodies(&state.db, &ListQuery::default().page_request()).await?;
    Ok(json(render::system(&ctx, &bodies.items)))
}

/// Other URLs of the System answer 301 with its canonical URL, as OParl asks.
async fn redirect_to_system(Base(base): Base) -> Response {
    match HeaderValue::from_str(&base) {
        Ok(location) => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => OparlError::not_found().into_response(),
    }
}

/// The list of bodies.
#[utoipa::path(get, path = "/oparl/v1/body", tag = "oparl",
    params(ListFilters),
    responses(
        (status = 200, description = "A list page of Body objects", content_type = "application/json"),
        (status = 400, description = "Bad filter", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_bodies(
    State(state): State<AppState>,
    Base(base): Base,
    params: ListParams,
) -> Result<Response> {
    let list = ListQuery::parse(params)?;
    let ctx = context(&state, base, &list);
    let page = query::bodies(&state.db, &list.page_request()).await?;
    let data = render::bodies(&ctx, &state.db, &page.items).await?;
    let url = format!("{}/body", ctx.base);
    Ok(list_response(&list, &url, &page, data, |b| b.id.as_uuid()))
}

/// The OParl list filters (all optional).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListFilters {
    /// Only objects created at or after this date-time (e.g. `2026-01-31T18:00:00+01:00`).
    created_since: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Only objects created at or before this date-time.
    created_until: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Only objects modified at or after this date-time; deleted objects are listed as tombstones.
    modified_since: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Only objects modified at or before this date-time.
    modified_until: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Objects per page (default 100). OParl lets a server serve fewer than asked: more than
    /// 500 is served as 500.
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    limit: Option<u64>,
    /// Paging cursor, taken from `links.next`.
    after: Option<Uuid>,
    /// `true` leaves out embedded lists (OParl's `omit_internal`).
    omit_internal: Option<bool>,
}

fn context(state: &AppState, base: String, list: &ListQuery) -> Ctx {
    Ctx {
        base,
        omit_internal: list.omit_internal,
        license: state.config.license.clone(),
        system: state.config.system.clone(),
    }
}

fn list_response<T>(
    list: &ListQuery,
    list_url: &str,
    page: &Page<T>,
    data: Vec<Value>,
    id: impl Fn(&T) -> Uuid,
) -> Response {
    let last = page.items.last().map(id);
    json(list.page_document(list_url, page, data, last))
}

/// One of a body's lists.
#[utoipa::path(get, path = "/oparl/v1/body/{id}/{list}", tag = "oparl",
    params(
        ("id" = Uuid, Path, description = "The body's id"),
        ("list" = String, Path, description = "organization, person, meeting, paper, agendaItem, \
            consultation, file, location, legislativeTerm or membership"),
        ListFilters,
    ),
    responses(
        (status = 200, description = "A list page", content_type = "application/json"),
        (status = 400, description = "Bad filter", body = OparlErrorObject, content_type = "application/json"),
        (status = 404, description = "No such body or list", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_body_list(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath((id, list_name)): OparlPath<(String, String)>,
    params: ListParams,
) -> Result<Response> {
    let body_id = BodyId::from_uuid(parse_id(&id)?);
    let list = ListQuery::parse(params)?;
    let ctx = context(&state, base, &list);
    if !query::body_is_live(&state.db, body_id).await? {
        return Err(OparlError::not_found());
    }
    let url = ctx.list_url(Kind::Body, body_id, &list_name);
    let req = list.page_request();
    let db = &state.db;
    macro_rules! page {
        ($fetch:expr, |$items:ident| $render:expr) => {{
            let page = $fetch.await?;
            let $items = &page.items;
            let data = $render;
            list_response(&list, &url, &page, data, |x| x.id.as_uuid())
        }};
    }
    let response = match list_name.as_str() {
        "organization" => page!(query::organizations(db, body_id, &req), |items| {
            render::organizations(&ctx, db, items).await?
        }),
        "person" => page!(query::persons(db, body_id, &req), |items| {
            render::persons(&ctx, db, items).await?
        }),
        "meeting" => page!(
            query::meetings(db, MeetingScope::Body(body_id), &req),
            |items| render::meetings(&ctx, db, items).await?
        ),
        "paper" => page!(query::papers(db, body_id, &req), |items| {
            render::papers(&ctx, db, items).await?
        }),
        "agendaItem" => page!(query::agenda_items(db, body_id, &req), |items| {
            render::agenda_items(&ctx, db, items).await?
        }),
        "consultation" => page!(query::consultations(db, body_id, &req), |items| {
            render::consultations(&ctx, items)
        }),
        "file" => page!(query::files(db, body_id, &req), |items| {
            render::files(&ctx, items)
        }),
        "location" => page!(query::locations(db, body_id, &req), |items| {
            render::locations(&ctx, db, items).await?
        }),
        "legislativeTerm" => page!(query::legislative_terms(db, body_id, &req), |items| {
            render::legislative_terms(&ctx, items)
        }),
        "membership" => page!(query::memberships(db, body_id, &req), |items| {
            render::memberships(&ctx, db, items).await?
        }),
        _ => return Err(OparlError::not_found()),
    };
    Ok(response)
}

/// An organization's meetings.
#[utoipa::path(get, path = "/oparl/v1/organization/{id}/meeting", tag = "oparl",
    params(("id" = Uuid, Path, description = "The organization's id"), ListFilters),
    responses(
        (status = 200, description = "A list page of Meeting objects", content_type = "application/json"),
        (status = 404, description = "No such organization", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_organization_meetings(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath(id): OparlPath<String>,
    params: ListParams,
) -> Result<Response> {
    let organization = OrganizationId::from_uuid(parse_id(&id)?);
    let list = ListQuery::parse(params)?;
    let ctx = context(&state, base, &list);
    if !query::organization_is_live(&state.db, organization).await? {
        return Err(OparlError::not_found());
    }
    let url = ctx.list_url(Kind::Organization, organization, "meeting");
    let page = query::meetings(
        &state.db,
        MeetingScope::Organization(organization),
        &list.page_request(),
    )
    .await?;
    let data = render::meetings(&ctx, &state.db, &page.items).await?;
    Ok(list_response(&list, &url, &page, data, |m| m.id.as_uuid()))
}

/// Any object at its own URL (its `id`); deleted objects answer with their tombstone.
#[utoipa::path(get, path = "/oparl/v1/{type}/{id}", tag = "oparl",
    params(
        ("type" = String, Path, description = "body, legislativeTerm, organization, person, \
            membership, location, meeting, agendaItem, paper, consultation or file"),
        ("id" = Uuid, Path, description = "The object's id"),
    ),
    responses(
        (status = 200, description = "The object (or its tombstone)", content_type = "application/json"),
        (status = 404, description = "No such public object", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_object(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath((kind, id)): OparlPath<(String, String)>,
) -> Result<Response> {
    let kind = Kind::from_path(&kind).ok_or_else(OparlError::not_found)?;
    let id = parse_id(&id)?;
    let ctx = Ctx {
        base,
        omit_internal: false,
        license: state.config.license.clone(),
        system: state.config.system.clone(),
    };
    let db = &state.db;
    let rendered: Option<Value> = match kind {
        Kind::System => None,
        Kind::Body => match query::body(db, id.into()).await? {
            Some(x) => render::bodies(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::LegislativeTerm => query::legislative_term(db, id.into())
            .await?
            .and_then(|x| render::legislative_terms(&ctx, &[x]).pop()),
        Kind::Organization => match query::organization(db, id.into()).await? {
            Some(x) => render::organizations(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::Person => match query::person(db, id.into()).await? {
            Some(x) => render::persons(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::Membership => match query::membership(db, id.into()).await? {
            Some(x) => render::memberships(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::Location => match query::location(db, id.into()).await? {
            Some(x) => render::locations(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::Meeting => match query::meeting(db, id.into()).await? {
            Some(x) => render::meetings(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::AgendaItem => match render::announced_agenda_item(&ctx, db, id.into()).await? {
            // A non-public item whose decision was announced (Bekanntgabe).
            Some(announced) => Some(announced),
            None => match query::agenda_item(db, id.into()).await? {
                Some(x) => render::agenda_items(&ctx, db, &[x]).await?.pop(),
                None => None,
            },
        },
        Kind::Paper => match query::paper(db, id.into()).await? {
            Some(x) => render::papers(&ctx, db, &[x]).await?.pop(),
            None => None,
        },
        Kind::Consultation => query::consultation(db, id.into())
            .await?
            .and_then(|x| render::consultations(&ctx, &[x]).pop()),
        Kind::File => match query::file(db, id.into()).await? {
            Some(x) => render::files(&ctx, &[x]).pop(),
            // The published minutes or a decision extract.
            None => render::document_file(&ctx, db, id)
                .await?
                .map(|(_, value)| value),
        },
    };
    rendered.map(json).ok_or_else(OparlError::not_found)
}

/// A meeting's invitation (`Meeting.invitation`): the public notice of its latest invitation or
/// supplement as a File, whose content is `/api/v1/public/meetings/{id}/invitation.pdf`. 404
/// before the invitation and for a meeting that is deleted or unknown.
#[utoipa::path(get, path = "/oparl/v1/meeting/{id}/invitation", tag = "oparl",
    params(("id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "The File object", content_type = "application/json"),
        (status = 404, description = "No such meeting, or not invited", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_meeting_invitation(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath(id): OparlPath<String>,
) -> Result<Response> {
    let id = MeetingId::from_uuid(parse_id(&id)?);
    let ctx = Ctx {
        base,
        omit_internal: false,
        license: state.config.license.clone(),
        system: state.config.system.clone(),
    };
    let meeting = query::meeting(&state.db, id)
        .await?
        .filter(|m| !m.meta.is_deleted())
        .ok_or_else(OparlError::not_found)?;
    let issued = plenum_store::notify::invitations_of(&state.db, id).await?;
    let issues = render::InvitationIssues::of(&issued).ok_or_else(OparlError::not_found)?;
    Ok(json(render::invitation_file(&ctx, &meeting, &issues)))
}

/// A file's bytes, shown inline (OParl's `accessUrl`).
#[utoipa::path(get, path = "/oparl/v1/file/{id}/access", tag = "oparl",
    params(("id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file's content, inline"),
        (status = 404, description = "No such public file", body = OparlErrorObject, content_type = "application/json"),
        (status = 410, description = "The file was deleted", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_file_access(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath(id): OparlPath<String>,
    request: Request,
) -> Result<Response> {
    serve_file(&state, base, &id, request, "inline").await
}

/// A file's bytes as a download (OParl's `downloadUrl`, `Content-Disposition: attachment`).
#[utoipa::path(get, path = "/oparl/v1/file/{id}/download", tag = "oparl",
    params(("id" = Uuid, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file's content, as attachment"),
        (status = 404, description = "No such public file", body = OparlErrorObject, content_type = "application/json"),
        (status = 410, description = "The file was deleted", body = OparlErrorObject, content_type = "application/json"),
    ))]
pub async fn get_file_download(
    State(state): State<AppState>,
    Base(base): Base,
    OparlPath(id): OparlPath<String>,
    request: Request,
) -> Result<Response> {
    serve_file(&state, base, &id, request, "attachment").await
}

async fn serve_file(
    state: &AppState,
    base: String,
    id: &str,
    request: Request,
    disposition: &str,
) -> Result<Response> {
    let id = FileId::from_uuid(parse_id(id)?);
    let Some(file) = query::file(&state.db, id).await? else {
        return serve_document(state, base, id.as_uuid(), disposition).await;
    };
    if file.meta.is_deleted() {
        return Err(OparlError::Gone);
    }
    Ok(
        crate::routes::files::serve_content(state, &file, request.headers(), disposition, false)
            .await?,
    )
}

/// The bytes of a File without a row in `file`: the signed PDF of published minutes (stored), or
/// a decision extract (rendered on request). 404 for anything the public may not read.
async fn serve_document(
    state: &AppState,
    base: String,
    id: Uuid,
    disposition: &str,
) -> Result<Response> {
    let ctx = Ctx {
        base,
        omit_internal: true,
        license: state.config.license.clone(),
        system: state.config.system.clone(),
    };
    let (target, value) = render::document_file(&ctx, &state.db, id)
        .await?
        .ok_or_else(OparlError::not_found)?;
    let bytes = match target {
        render::DocumentTarget::Minutes(version) => {
            plenum_store::minutes_record::pdf(&state.db, version)
                .await?
                .ok_or_else(OparlError::not_found)?
        }
        render::DocumentTarget::Extract(item) => {
            crate::routes::decisions::public_extract(state, item)
                .await?
                .0
        }
    };
    let file_name = value["fileName"].as_str().unwrap_or("document.pdf");
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(value) = HeaderValue::from_str(&crate::routes::files::content_disposition(
        disposition,
        file_name,
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
