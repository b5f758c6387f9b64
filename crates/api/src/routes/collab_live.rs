//! Live delivery of notes and forum posts to the members allowed to see them, over the
//! signed-in WebSocket (personal messages, not meeting events). Recipients are the
//! organization's members today; only those with an open connection cost anything.
//!
//! Messages:
//! - `{"type": "note_shared", "note": Note}`: a note was shared with an organization you are in.
//! - `{"type": "forum_post", "organization_id", "thread": Thread, "post": Post, "mentioned"}`.
//! - `{"type": "unread", "forums": [{"organization_id", "unread"}], "total"}`: your unread
//!   counts changed.
//! - `{"type": "annotation", "file_id", "note": Note}`: an annotation you may see was written or
//!   changed (also to the author's other devices).
//! - `{"type": "annotation_removed", "file_id", "id"}`: an annotation you could see was deleted,
//!   or is no longer shared with you.

use std::sync::Arc;

use plenum_domain::{Action, OrganizationId, PersonId, Resource};
use plenum_store::collab::{Note, NoteTarget, Post, Thread, forums};
use plenum_store::repo;

use super::collab::{Names, current_members, file_resource};
use crate::AppState;

fn send(state: &AppState, person: PersonId, value: &serde_json::Value) {
    state
        .live
        .send_to_person(person, Arc::from(value.to_string().as_str()));
}

/// Tells the organization's connected members (not the author) about a note shared with it.
pub async fn note_shared(state: &AppState, note: &Note, organization: OrganizationId) {
    let Ok(members) = current_members(state, organization).await else {
        return;
    };
    let connected = state.live.connected_among(&members).await;
    let mut names = Names::default();
    for person in members {
        if person == note.author || !connected.contains(&person) {
            continue;
        }
        let response =
            super::notes::note_response(state, &mut names, note.clone(), Some(person)).await;
        send(
            state,
            person,
            &serde_json::json!({"type": "note_shared", "note": response}),
        );
    }
}

/// Tells the forum's connected members (not the author) about a new post, and updates their
/// unread counts.
pub async fn forum_post(state: &AppState, thread: &Thread, post: &Post) {
    let Ok(members) = current_members(state, thread.organization).await else {
        return;
    };
    let connected = state.live.connected_among(&members).await;
    let mut names = Names::default();
    for person in members {
        if person == post.author || !connected.contains(&person) {
            continue;
        }
        let response =
            super::forums::post_response(state, &mut names, post.clone(), Some(person)).await;
        send(
            state,
            person,
            &serde_json::json!({
                "type": "forum_post",
                "organization_id": thread.organization,
                "thread": {"id": thread.id, "title": thread.title},
                "post": response,
                "mentioned": post.mentions.contains(&person),
            }),
        );
        send_unread(state, person).await;
    }
}

/// Sends `person` their current unread counts, if they are connected.
pub async fn unread(state: &AppState, person: PersonId) {
    if state.live.is_connected(person).await {
        send_unread(state, person).await;
    }
}

/// Sends `person` their current unread counts.
async fn send_unread(state: &AppState, person: PersonId) {
    let today = state.now().date_naive();
    let Ok(memberships) = repo::memberships::list_by_person(&state.db, person, false).await else {
        return;
    };
    let mut organizations: Vec<OrganizationId> = memberships
        .into_iter()
        .filter(|m| m.is_active_on(today))
        .map(|m| m.organization_id)
        .collect();
    organizations.sort();
    organizations.dedup();
    let Ok(counts) = forums::unread(&state.db, person, &organizations).await else {
        return;
    };
    let per_forum: Vec<serde_json::Value> = organizations
        .iter()
        .map(|o| {
            let n: u64 = counts
                .values()
                .filter(|(org, _)| org == o)
                .map(|(_, n)| n)
                .sum();
            serde_json::json!({"organization_id": o, "unread": n})
        })
        .collect();
    let total: u64 = counts.values().map(|(_, n)| n).sum();
    send(
        state,
        person,
        &serde_json::json!({"type": "unread", "forums": per_forum, "total": total}),
    );
}

/// Who reads a note: its author, and the members of the organization it is shared with today.
async fn audience(state: &AppState, note: &Note) -> Vec<PersonId> {
    let mut people = vec![note.author];
    if let Some(organization) = note.shared_with
        && let Ok(members) = current_members(state, organization).await
    {
        people.extend(members);
    }
    people.sort();
    people.dedup();
    people
}

/// Whether `person` may open the file (the policy, as for a request of theirs).
async fn may_view(state: &AppState, person: PersonId, file: &Resource) -> bool {
    let Ok(Some(user)) = repo::users::find_by_person(&state.db, person).await else {
        return false;
    };
    let Ok(actor) = crate::access::actor(state, &user).await else {
        return false;
    };
    plenum_domain::authorize(&actor, Action::View, file).is_allowed()
}

/// An annotation was written (`before` none), changed, or deleted (`after` none). Its readers
/// with an open connection — the author's devices included — who may open the file get it
/// (`annotation`); those who could see it before but no longer can are told it is gone
/// (`annotation_removed`).
pub async fn annotation_changed(state: &AppState, before: Option<&Note>, after: Option<&Note>) {
    let Some(any) = after.or(before) else {
        return;
    };
    let NoteTarget::File(file) = any.target else {
        return;
    };
    let now = match after {
        Some(note) => audience(state, note).await,
        None => Vec::new(),
    };
    let earlier = match before {
        Some(note) => audience(state, note).await,
        None => Vec::new(),
    };
    let everyone: Vec<PersonId> = now.iter().chain(&earlier).copied().collect();
    let connected = state.live.connected_among(&everyone).await;
    if let Some(note) = after
        && let Ok(resource) = file_resource(state, file).await
    {
        let mut names = Names::default();
        for &person in &now {
            if !connected.contains(&person) || !may_view(state, person, &resource).await {
                continue;
            }
            let response =
                super::notes::note_response(state, &mut names, note.clone(), Some(person)).await;
            send(
                state,
                person,
                &serde_json::json!({"type": "annotation", "file_id": file, "note": response}),
            );
        }
    }
    for person in earlier {
        if now.contains(&person) || !connected.contains(&person) {
            continue;
        }
        send(
            state,
            person,
            &serde_json::json!({"type": "annotation_removed", "file_id": file, "id": any.id}),
        );
    }
}
