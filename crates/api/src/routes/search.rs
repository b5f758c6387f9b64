//! Full-text search for members and the public, over meetings, agenda items (titles and
//! decisions), papers (reference, title, text), file names and the text inside PDFs (page by
//! page: a hit inside a file names its page, one hit per file).
//!
//! The store returns candidates by relevance; every candidate passes the domain policy for the
//! caller (a member, or an anonymous citizen for the public search) before it is shown, so a hit
//! never reveals anything the caller could not open. Snippets are plain text; matches are marked
//! by `highlights`, never by markup.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use plenum_domain::{AccessDecision, Action, Actor, Resource, authorize};
use plenum_domain::{AgendaItemId, FileId, MeetingId, PaperId};
use plenum_store::search::{self, SearchCandidate, SearchKind};
use plenum_store::{StoreError, file_text, repo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::access::{self, Attachment};
use crate::auth::AuthUser;
use crate::json::{AppQuery, bounded};
use crate::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(search_member)).route(
        "/public/search",
        get(search_public).layer(super::oparl::compression()),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to look for; each also matches as a word prefix ("Haushalt" finds
    /// "Haushaltssatzung"). Only the first 200 characters count.
    #[serde(default)]
    q: String,
    /// Most hits to return (1–50, default 20); other numbers are rejected.
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// Most hits one search returns.
pub const MAX_LIMIT: u32 = 50;

/// One hit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    /// `meeting`, `agenda_item`, `paper` or `file`.
    pub kind: &'static str,
    pub id: Uuid,
    pub title: String,
    /// Plain text around the first match (no markup; render as text).
    pub snippet: String,
    /// Matched words in `snippet` as `[start, end)` offsets in UTF-16 code units (JavaScript
    /// string indices).
    pub highlights: Vec<[usize; 2]>,
    /// The meeting of a meeting, agenda item or file attached to one.
    pub meeting_id: Option<Uuid>,
    /// The paper of a paper, agenda item or file attached to one.
    pub paper_id: Option<Uuid>,
    /// For a passage inside a file (`kind` `file`): the page it is on (from 1), to open the
    /// viewer there. `null` for a match of the file's name.
    pub page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub data: Vec<SearchHit>,
}

/// Searches everything the signed-in user may see.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, description = "Hits, best first", body = SearchResults),
        (status = 401, description = "Not signed in", body = crate::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn search_member(
    State(state): State<AppState>,
    auth: AuthUser,
    AppQuery(params): AppQuery<SearchParams>,
) -> Result<Json<SearchResults>> {
    let actor = access::actor(&state, &auth.user).await?;
    run(&state, &actor, &params).await
}

/// Searches public material only.
#[utoipa::path(get, path = "/api/v1/public/search", tag = "search", params(SearchParams),
    responses((status = 200, description = "Public hits, best first", body = SearchResults)))]
pub async fn search_public(
    State(state): State<AppState>,
    AppQuery(params): AppQuery<SearchParams>,
) -> Result<Json<SearchResults>> {
    run(&state, &Actor::anonymous(), &params).await
}

/// Candidates fetched per hit shown: hits the caller may not see are dropped afterwards.
const OVERFETCH: u64 = 5;

async fn run(
    state: &AppState,
    actor: &Actor,
    params: &SearchParams,
) -> Result<Json<SearchResults>> {
    let limit = bounded("limit", params.limit.unwrap_or(20), 1, MAX_LIMIT)? as usize;
    let query: String = params.q.chars().take(200).collect();
    let words = search::query_words(&query);
    let candidates = search::search(&state.db, &query, limit as u64 * OVERFETCH + 20).await?;
    let mut data: Vec<SearchHit> = Vec::new();
    for candidate in candidates {
        if data.len() == limit {
            break;
        }
        match visible_hit(state, actor, &candidate, &words).await {
            // One passage per file: its best page.
            Ok(Some(hit))
                if hit.page.is_some()
                    && data
                        .iter()
                        .any(|seen| seen.page.is_some() && seen.id == hit.id) => {}
            Ok(Some(hit)) => data.push(hit),
            Ok(None) | Err(crate::ApiError::Store(StoreError::NotFound { .. })) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(Json(SearchResults { data }))
}

/// The hit, if the actor may see what it is about.
async fn visible_hit(
    state: &AppState,
    actor: &Actor,
    candidate: &SearchCandidate,
    words: &[String],
) -> Result<Option<SearchHit>> {
    let db = &state.db;
    let mut title = candidate.title.clone();
    let mut id = candidate.id;
    let mut page = None;
    let (resource, meeting_id, paper_id) = match candidate.kind {
        SearchKind::Meeting => {
            let meeting = repo::meetings::get_live(db, MeetingId::from_uuid(candidate.id)).await?;
            let organization = access::meeting_organization(db, &meeting).await?;
            (
                Resource::Meeting {
                    organization,
                    public: true,
                },
                Some(meeting.id.as_uuid()),
                None,
            )
        }
        SearchKind::AgendaItem => {
            let item =
                repo::agenda_items::get_live(db, AgendaItemId::from_uuid(candidate.id)).await?;
            let meeting = repo::meetings::get_live(db, item.meeting_id).await?;
            let organization = access::meeting_organization(db, &meeting).await?;
            (
                Resource::AgendaItem {
                    organization,
                    public: item.public,
                },
                Some(meeting.id.as_uuid()),
                item.paper_id.map(|id| id.as_uuid()),
            )
        }
        SearchKind::Paper => {
            let paper = repo::papers::get_live(db, PaperId::from_uuid(candidate.id)).await?;
            (
                Resource::Paper {
                    public: paper.public,
                    organizations: access::paper_organizations(db, &paper).await?,
                },
                None,
                Some(paper.id.as_uuid()),
            )
        }
        SearchKind::File | SearchKind::FilePage => {
            let file_id = if candidate.kind == SearchKind::FilePage {
                let Some((file_id, number)) = file_text::page(db, candidate.id).await? else {
                    return Ok(None);
                };
                page = Some(number);
                file_id
            } else {
                FileId::from_uuid(candidate.id)
            };
            let file = repo::files::get_live(db, file_id).await?;
            id = file.id.as_uuid();
            title = file.name.as_str().to_owned();
            let attachment = Attachment::of(&file);
            let (resource, _) = access::file_resource(db, attachment).await?;
            let meeting_id = match attachment {
                Some(Attachment::Meeting(id)) => Some(id.as_uuid()),
                Some(Attachment::AgendaItem(id)) => Some(
                    repo::agenda_items::get_live(db, id)
                        .await?
                        .meeting_id
                        .as_uuid(),
                ),
                _ => None,
            };
            (resource, meeting_id, file.paper_id.map(|id| id.as_uuid()))
        }
    };
    if authorize(actor, Action::View, &resource) != AccessDecision::Allow {
        return Ok(None);
    }
    let (snippet, highlights) = snippet(&title, &candidate.body, words);
    let kind = match candidate.kind {
        SearchKind::FilePage => SearchKind::File,
        kind => kind,
    };
    Ok(Some(SearchHit {
        kind: kind.as_str(),
        id,
        title,
        snippet,
        highlights,
        meeting_id,
        paper_id,
        page,
    }))
}

/// Lower case with umlauts and accents folded, one char for one char (so offsets stay valid).
fn fold(c: char) -> char {
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'ä' | 'à' | 'á' | 'â' => 'a',
        'ö' | 'ò' | 'ó' | 'ô' => 'o',
        'ü' | 'ù' | 'ú' | 'û' => 'u',
        'é' | 'è' | 'ê' => 'e',
        other => other,
    }
}

/// Byte ranges of the words in `text` that start with one of the (folded) query words.
fn matching_words(text: &str, words: &[String]) -> Vec<(usize, usize)> {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.chars().map(fold).collect())
        .collect();
    let mut found = Vec::new();
    let mut start = None;
    let mut check = |from: usize, to: usize| {
        let folded: String = text[from..to].chars().map(fold).collect();
        if words.iter().any(|w| folded.starts_with(w.as_str())) {
            found.push((from, to));
        }
    };
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                check(from, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        check(from, text.len());
    }
    found
}

/// Markdown marks dropped and whitespace collapsed: what a reader sees.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '#' | '*' | '_' | '`' | '>'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

const SNIPPET_CHARS: usize = 200;
const CONTEXT_BEFORE: usize = 60;

/// A plain-text snippet around the first match (in the body, else the title) and the matches in
/// it as UTF-16 offsets.
fn snippet(title: &str, body: &str, words: &[String]) -> (String, Vec<[usize; 2]>) {
    let body = plain(body);
    let text = if matching_words(&body, words).is_empty() {
        plain(title)
    } else {
        body
    };
    let first = matching_words(&text, words)
        .first()
        .map_or(0, |(start, _)| *start);
    let chars_before = text[..first].chars().count();
    let skip = chars_before.saturating_sub(CONTEXT_BEFORE);
    let mut piece: String = text.chars().skip(skip).take(SNIPPET_CHARS).collect();
    if skip > 0 {
        // Start at a word boundary.
        if let Some(space) = piece.find(' ').filter(|i| *i < 30) {
            piece = piece[space + 1..].to_owned();
        }
        piece.insert_str(0, "… ");
    }
    if skip + SNIPPET_CHARS < text.chars().count() {
        piece.push_str(" …");
    }
    let utf16 = |byte: usize| piece[..byte].encode_utf16().count();
    let highlights = matching_words(&piece, words)
        .into_iter()
        .map(|(start, end)| [utf16(start), utf16(end)])
        .collect();
    (piece, highlights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<String> {
        search::query_words(q)
    }

    #[test]
    fn snippets_mark_prefix_matches_with_utf16_offsets() {
        let (text, marks) = snippet(
            "Haushaltssatzung 2027",
            "## Beschluss\n\nDer Rat beschließt die **Haushaltssatzung** für 2027.",
            &words("haushalt"),
        );
        assert_eq!(
            text,
            "Beschluss Der Rat beschließt die Haushaltssatzung für 2027."
        );
        assert_eq!(marks.len(), 1);
        let units: Vec<u16> = text.encode_utf16().collect();
        let [start, end] = marks[0];
        assert_eq!(
            String::from_utf16(&units[start..end]).unwrap(),
            "Haushaltssatzung"
        );
    }

    #[test]
    fn umlauts_match_either_way_and_long_texts_are_cut_around_the_match() {
        let long = format!(
            "{} Verkauf des Grundstücks Flur 3. {}",
            "Vorwort ".repeat(40),
            "Anhang ".repeat(40)
        );
        let (text, marks) = snippet("Verkauf", &long, &words("grundstuck"));
        assert!(text.starts_with("… "), "{text}");
        assert!(text.ends_with(" …"), "{text}");
        assert!(text.chars().count() <= SNIPPET_CHARS + 4);
        let units: Vec<u16> = text.encode_utf16().collect();
        let [start, end] = marks[0];
        assert_eq!(
            String::from_utf16(&units[start..end]).unwrap(),
            "Grundstücks"
        );
    }

    #[test]
    fn without_a_body_match_the_title_is_the_snippet() {
        let (text, marks) = snippet("Einwohnerfragestunde", "", &words("einwohner"));
        assert_eq!(text, "Einwohnerfragestunde");
        assert_eq!(marks, vec![[0, 20]]);
    }
}
