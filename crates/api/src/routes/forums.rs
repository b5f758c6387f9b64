//! Organization forums: threads with posts and replies, pinned and locked by the chair, unread
//! counts per member. Only current members of the organization see or write anything.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use plenum_domain::{Action, Resource};
use plenum_domain::{AgendaItemId, MeetingId, OrganizationId, PaperId, PersonId};
use plenum_store::collab::{Post, Thread, forums};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::collab::{
    CollabResult, MAX_BODY_BYTES, MAX_TEXT, MAX_TITLE, Member, Names, OrganizationInfo, PersonRef,
    agenda_item_resource, changed_meanwhile, check_text, current_members, etag, if_match, invalid,
    meeting_resource, member, not_found, paper_resource, require,
};
use crate::auth::AuthUser;
use crate::json::{AppJson, AppPath, AppQuery, bounded};
use crate::markdown;
use crate::{AppState, Problem};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forums", get(list_forums))
        .route("/forums/search", get(search_posts))
        .route(
            "/forums/{organization_id}/threads",
            get(list_threads).post(create_thread),
        )
        .route("/threads/{id}", get(get_thread))
        .route("/threads/{id}/posts", post(create_post))
        .route("/threads/{id}/pin", post(pin_thread))
        .route("/threads/{id}/lock", post(lock_thread))
        .route("/posts/{id}", patch(update_post).delete(delete_post))
        .route("/posts/{id}/history", get(post_history))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn forum(organization: OrganizationId) -> Resource {
    Resource::Forum { organization }
}

fn post_resource(post: &Post) -> Resource {
    Resource::ForumPost {
        organization: post.organization,
        author: post.author,
    }
}

/// A forum the caller belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForumResponse {
    pub organization: OrganizationInfo,
    pub threads: u64,
    /// Posts by others the caller has not read yet.
    pub unread: u64,
    /// The caller chairs it (may pin and lock).
    pub moderator: bool,
}

/// The forums of every organization the caller belongs to today, with unread counts.
#[utoipa::path(get, path = "/api/v1/forums", tag = "forums", security(("bearer" = [])),
    responses((status = 200, body = Vec<ForumResponse>), (status = 401, body = Problem)))]
pub async fn list_forums(
    State(state): State<AppState>,
    auth: AuthUser,
) -> CollabResult<Json<Vec<ForumResponse>>> {
    let who = member(&state, &auth.user).await?;
    let Some(person) = who.person else {
        return Ok(Json(Vec::new()));
    };
    let unread = forums::unread(&state.db, person, &who.organizations).await?;
    let mut names = Names::default();
    let mut out = Vec::new();
    for &organization in &who.organizations {
        if require(&who.actor, Action::View, &forum(organization)).is_err() {
            continue;
        }
        let threads = forums::list_threads(&state.db, organization).await?.len() as u64;
        out.push(ForumResponse {
            organization: names.organization(&state, organization).await,
            threads,
            unread: unread
                .values()
                .filter(|(o, _)| *o == organization)
                .map(|(_, n)| n)
                .sum(),
            moderator: require(&who.actor, Action::Moderate, &forum(organization)).is_ok(),
        });
    }
    Ok(Json(out))
}

/// A thread in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub author: PersonRef,
    pub paper_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub pinned: bool,
    pub locked: bool,
    pub created: DateTime<Utc>,
    pub last_post: DateTime<Utc>,
    pub unread: u64,
}

async fn thread_response(
    state: &AppState,
    names: &mut Names,
    thread: Thread,
    unread: u64,
) -> ThreadResponse {
    ThreadResponse {
        id: thread.id,
        organization_id: thread.organization.as_uuid(),
        author: names.person(state, thread.author).await,
        title: thread.title,
        paper_id: thread.paper_id.map(|id| id.as_uuid()),
        meeting_id: thread.meeting_id.map(|id| id.as_uuid()),
        agenda_item_id: thread.agenda_item_id.map(|id| id.as_uuid()),
        pinned: thread.pinned,
        locked: thread.locked,
        created: thread.created,
        last_post: thread.last_post,
        unread,
    }
}

/// A post; a deleted one is a tombstone with empty `body` and `html`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostResponse {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub author: PersonRef,
    pub own: bool,
    pub reply_to: Option<Uuid>,
    pub body: String,
    pub html: String,
    pub mentions: Vec<Uuid>,
    /// Also the `ETag` for edits.
    pub version: u32,
    pub edited: bool,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub deleted: Option<DateTime<Utc>>,
}

pub(crate) async fn post_response(
    state: &AppState,
    names: &mut Names,
    post: Post,
    me: Option<PersonId>,
) -> PostResponse {
    PostResponse {
        id: post.id,
        thread_id: post.thread_id,
        author: names.person(state, post.author).await,
        own: me == Some(post.author),
        reply_to: post.reply_to,
        html: markdown::render(&post.body),
        body: post.body,
        mentions: post.mentions.iter().map(|p| p.as_uuid()).collect(),
        version: post.version,
        edited: post.version > 1,
        created: post.created,
        modified: post.modified,
        deleted: post.deleted,
    }
}

/// The forum's threads: pinned first, then by latest post.
#[utoipa::path(get, path = "/api/v1/forums/{organization_id}/threads", tag = "forums", security(("bearer" = [])),
    params(("organization_id" = Uuid, Path)),
    responses((status = 200, body = Vec<ThreadResponse>), (status = 404, body = Problem)))]
pub async fn list_threads(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(organization): AppPath<Uuid>,
) -> CollabResult<Json<Vec<ThreadResponse>>> {
    let organization = OrganizationId::from_uuid(organization);
    let who = member(&state, &auth.user).await?;
    require(&who.actor, Action::View, &forum(organization))?;
    let person = who.person()?;
    let unread = forums::unread(&state.db, person, &[organization]).await?;
    let mut names = Names::default();
    let mut out = Vec::new();
    for thread in forums::list_threads(&state.db, organization).await? {
        let count = unread.get(&thread.id).map_or(0, |(_, n)| *n);
        out.push(thread_response(&state, &mut names, thread, count).await);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThreadRequest {
    /// At most 200 characters.
    pub title: String,
    /// The first post, Markdown, at most 20 000 characters.
    pub body: String,
    /// Optional link to a paper, meeting or agenda item the caller may see.
    pub paper_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    /// Mentioned members (person ids); only current members of the organization count.
    #[serde(default)]
    pub mentions: Vec<Uuid>,
}

/// A thread with its posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadDetailResponse {
    pub thread: ThreadResponse,
    pub posts: Vec<PostResponse>,
}

/// Only mentions of current members of the organization count (and no one learns who else
/// exists).
async fn mentions(
    state: &AppState,
    organization: OrganizationId,
    requested: &[Uuid],
) -> CollabResult<Vec<PersonId>> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    if requested.len() > 50 {
        return Err(invalid("mentions", "at most 50"));
    }
    let members = current_members(state, organization).await?;
    let mut out: Vec<PersonId> = requested
        .iter()
        .map(|&id| PersonId::from_uuid(id))
        .filter(|p| members.contains(p))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// Opens a thread in the forum of an organization the caller belongs to.
#[utoipa::path(post, path = "/api/v1/forums/{organization_id}/threads", tag = "forums", security(("bearer" = [])),
    params(("organization_id" = Uuid, Path)), request_body = CreateThreadRequest,
    responses(
        (status = 201, body = ThreadDetailResponse),
        (status = 404, body = Problem),
        (status = 413, body = Problem),
        (status = 422, body = Problem),
        (status = 429, body = Problem),
    ))]
pub async fn create_thread(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(organization): AppPath<Uuid>,
    AppJson(request): AppJson<CreateThreadRequest>,
) -> CollabResult<impl IntoResponse> {
    let organization = OrganizationId::from_uuid(organization);
    let who = member(&state, &auth.user).await?;
    require(&who.actor, Action::Post, &forum(organization))?;
    let person = who.person()?;
    check_text("title", &request.title, MAX_TITLE)?;
    check_text("body", &request.body, MAX_TEXT)?;
    if let Some(id) = request.paper_id {
        require(
            &who.actor,
            Action::View,
            &paper_resource(&state, PaperId::from_uuid(id)).await?,
        )?;
    }
    if let Some(id) = request.meeting_id {
        require(
            &who.actor,
            Action::View,
            &meeting_resource(&state, MeetingId::from_uuid(id)).await?,
        )?;
    }
    if let Some(id) = request.agenda_item_id {
        require(
            &who.actor,
            Action::View,
            &agenda_item_resource(&state, AgendaItemId::from_uuid(id)).await?,
        )?;
    }
    let mentioned = mentions(&state, organization, &request.mentions).await?;
    state.auth.post_limiter.check(auth.user.id).await?;
    let (thread, post) = forums::create_thread(
        &state.db,
        forums::NewThread {
            organization,
            author: person,
            title: request.title.trim().to_string(),
            paper_id: request.paper_id.map(PaperId::from_uuid),
            meeting_id: request.meeting_id.map(MeetingId::from_uuid),
            agenda_item_id: request.agenda_item_id.map(AgendaItemId::from_uuid),
            body: request.body,
            mentions: mentioned,
        },
        state.now(),
    )
    .await?;
    super::collab_live::forum_post(&state, &thread, &post).await;
    let mut names = Names::default();
    let response = ThreadDetailResponse {
        thread: thread_response(&state, &mut names, thread, 0).await,
        posts: vec![post_response(&state, &mut names, post, Some(person)).await],
    };
    Ok((StatusCode::CREATED, Json(response)))
}

async fn visible_thread(state: &AppState, who: &Member, id: Uuid) -> CollabResult<Thread> {
    let thread = forums::get_thread(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    require(&who.actor, Action::View, &forum(thread.organization))?;
    Ok(thread)
}

/// A thread with all its posts (tombstones included); marks it read for the caller.
#[utoipa::path(get, path = "/api/v1/threads/{id}", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ThreadDetailResponse), (status = 404, body = Problem)))]
pub async fn get_thread(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<Json<ThreadDetailResponse>> {
    let who = member(&state, &auth.user).await?;
    let thread = visible_thread(&state, &who, id).await?;
    let person = who.person()?;
    let posts = forums::list_posts(&state.db, id).await?;
    if let Some(last) = posts.iter().map(|p| p.created).max() {
        forums::mark_read(&state.db, id, person, last).await?;
        super::collab_live::unread(&state, person).await;
    }
    let mut names = Names::default();
    let mut out = Vec::with_capacity(posts.len());
    for post in posts {
        out.push(post_response(&state, &mut names, post, Some(person)).await);
    }
    Ok(Json(ThreadDetailResponse {
        thread: thread_response(&state, &mut names, thread, 0).await,
        posts: out,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePostRequest {
    /// Markdown, at most 20 000 characters.
    pub body: String,
    /// The post this one replies to (in the same thread).
    pub reply_to: Option<Uuid>,
    #[serde(default)]
    pub mentions: Vec<Uuid>,
}

/// Posts in a thread (or replies to a post in it). Locked threads take no posts (409).
#[utoipa::path(post, path = "/api/v1/threads/{id}/posts", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CreatePostRequest,
    responses(
        (status = 201, body = PostResponse),
        (status = 404, body = Problem),
        (status = 409, description = "Thread locked", body = Problem),
        (status = 413, body = Problem),
        (status = 429, body = Problem),
    ))]
pub async fn create_post(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<CreatePostRequest>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let thread = visible_thread(&state, &who, id).await?;
    require(&who.actor, Action::Post, &forum(thread.organization))?;
    let person = who.person()?;
    check_text("body", &request.body, MAX_TEXT)?;
    if thread.locked {
        return Err(super::collab::CollabError::Problem(
            Problem::new(StatusCode::CONFLICT, "thread-locked", "Thread locked")
                .with_detail("The chair has locked this thread."),
        ));
    }
    if let Some(parent) = request.reply_to {
        let parent = forums::get_post(&state.db, parent)
            .await
            .map_err(|_| invalid("reply_to", "no such post in this thread"))?;
        if parent.thread_id != thread.id {
            return Err(invalid("reply_to", "no such post in this thread"));
        }
    }
    let mentioned = mentions(&state, thread.organization, &request.mentions).await?;
    state.auth.post_limiter.check(auth.user.id).await?;
    let post = forums::add_post(
        &state.db,
        &thread,
        person,
        request.reply_to,
        request.body,
        &mentioned,
        state.now(),
    )
    .await?;
    super::collab_live::forum_post(&state, &thread, &post).await;
    let version = post.version;
    let response = post_response(&state, &mut Names::default(), post, Some(person)).await;
    Ok((StatusCode::CREATED, etag(version), Json(response)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagRequest {
    /// `true` to pin (lock), `false` to unpin (unlock).
    pub value: bool,
}

async fn moderate(state: &AppState, auth: &AuthUser, id: Uuid) -> CollabResult<(Member, Thread)> {
    let who = member(state, &auth.user).await?;
    let thread = visible_thread(state, &who, id).await?;
    require(&who.actor, Action::Moderate, &forum(thread.organization))?;
    Ok((who, thread))
}

/// Pins or unpins a thread (the organization's chair).
#[utoipa::path(post, path = "/api/v1/threads/{id}/pin", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = FlagRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn pin_thread(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<FlagRequest>,
) -> CollabResult<Json<ThreadResponse>> {
    moderate(&state, &auth, id).await?;
    let thread = forums::set_pinned(&state.db, id, request.value).await?;
    Ok(Json(
        thread_response(&state, &mut Names::default(), thread, 0).await,
    ))
}

/// Locks or unlocks a thread (the organization's chair).
#[utoipa::path(post, path = "/api/v1/threads/{id}/lock", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = FlagRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn lock_thread(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    AppJson(request): AppJson<FlagRequest>,
) -> CollabResult<Json<ThreadResponse>> {
    moderate(&state, &auth, id).await?;
    let thread = forums::set_locked(&state.db, id, request.value).await?;
    Ok(Json(
        thread_response(&state, &mut Names::default(), thread, 0).await,
    ))
}

/// The post if the caller may see its forum, else 404.
async fn visible_post(state: &AppState, who: &Member, id: Uuid) -> CollabResult<Post> {
    let post = forums::get_post(&state.db, id)
        .await
        .map_err(|_| not_found())?;
    require(&who.actor, Action::View, &post_resource(&post))?;
    forums::get_thread(&state.db, post.thread_id)
        .await
        .map_err(|_| not_found())?;
    Ok(post)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePostRequest {
    pub body: String,
    #[serde(default)]
    pub mentions: Vec<Uuid>,
}

/// Edits the caller's own post (`If-Match` required); the old text stays in the history.
#[utoipa::path(patch, path = "/api/v1/posts/{id}", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The post's ETag")),
    request_body = UpdatePostRequest,
    responses((status = 200, body = PostResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 413, body = Problem), (status = 428, body = Problem)))]
pub async fn update_post(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(request): AppJson<UpdatePostRequest>,
) -> CollabResult<impl IntoResponse> {
    let who = member(&state, &auth.user).await?;
    let post = visible_post(&state, &who, id).await?;
    require(&who.actor, Action::Update, &post_resource(&post))?;
    if post.deleted.is_some() {
        return Err(not_found());
    }
    let expected = if_match(&headers)?;
    check_text("body", &request.body, MAX_TEXT)?;
    let mentioned = mentions(&state, post.organization, &request.mentions).await?;
    state.auth.post_limiter.check(auth.user.id).await?;
    let updated = forums::update_post(
        &state.db,
        id,
        expected,
        request.body,
        &mentioned,
        state.now(),
    )
    .await?
    .ok_or_else(changed_meanwhile)?;
    let version = updated.version;
    let response = post_response(&state, &mut Names::default(), updated, who.person).await;
    Ok((etag(version), Json(response)))
}

/// Deletes a post (its author, or the chair): it stays as a tombstone without text.
#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_post(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<StatusCode> {
    let who = member(&state, &auth.user).await?;
    let post = visible_post(&state, &who, id).await?;
    require(&who.actor, Action::Delete, &post_resource(&post))?;
    if !forums::delete_post(&state.db, id, state.now()).await? {
        return Err(not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// An earlier version of a post.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostRevisionResponse {
    pub version: u32,
    pub body: String,
    pub html: String,
    pub edited: DateTime<Utc>,
}

/// The earlier versions of a post. A deleted post has none: 404, as for editing or deleting it.
#[utoipa::path(get, path = "/api/v1/posts/{id}/history", tag = "forums", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PostRevisionResponse>),
        (status = 404, description = "No such post, not visible, or deleted", body = Problem)))]
pub async fn post_history(
    State(state): State<AppState>,
    auth: AuthUser,
    AppPath(id): AppPath<Uuid>,
) -> CollabResult<Json<Vec<PostRevisionResponse>>> {
    let who = member(&state, &auth.user).await?;
    let post = visible_post(&state, &who, id).await?;
    if post.deleted.is_some() {
        return Err(not_found());
    }
    Ok(Json(
        forums::post_history(&state.db, id)
            .await?
            .into_iter()
            .map(|r| PostRevisionResponse {
                version: r.version,
                html: markdown::render(&r.body),
                body: r.body,
                edited: r.edited,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to find (case-insensitive substring), 2 to 200 characters.
    #[param(min_length = 2, max_length = 200)]
    pub q: String,
}

/// A search hit: the post and its thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostHit {
    pub thread: ThreadResponse,
    pub post: PostResponse,
}

/// Searches the posts in the caller's forums.
#[utoipa::path(get, path = "/api/v1/forums/search", tag = "forums", security(("bearer" = [])),
    params(SearchQuery),
    responses((status = 200, body = Vec<PostHit>), (status = 400, description = "`q` shorter than 2 or longer than 200 characters", body = Problem)))]
pub async fn search_posts(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(query): AppQuery<SearchQuery>,
) -> CollabResult<Json<Vec<PostHit>>> {
    bounded("the length of q", query.q.chars().count(), 2, 200)?;
    let q = query.q.trim();
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let who = member(&state, &auth.user).await?;
    if who.person.is_none() {
        return Ok(Json(Vec::new()));
    }
    let mut names = Names::default();
    let mut out = Vec::new();
    for (thread, post) in forums::search(&state.db, &who.organizations, q).await? {
        if require(&who.actor, Action::View, &post_resource(&post)).is_err() {
            continue;
        }
        out.push(PostHit {
            thread: thread_response(&state, &mut names, thread, 0).await,
            post: post_response(&state, &mut names, post, who.person).await,
        });
    }
    Ok(Json(out))
}
