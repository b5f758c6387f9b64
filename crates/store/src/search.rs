//! Full-text search over the index that the migration `m20261124_000006` keeps current with
//! triggers: SQLite FTS5 (`search_index`), PostgreSQL `tsvector` with German stemming
//! (`search_document`).
//!
//! Every query word is also matched as a prefix, so "Haushalt" finds "Haushaltssatzung". The
//! store returns candidates by relevance, without any visibility filter: the caller asks the
//! policy about each hit (and should therefore ask for more candidates than it will show).
//!
//! To make another kind searchable (notes, forum posts), add a variant to [`SearchKind`] and, in
//! that kind's migration, triggers that write its rows into the index under the kind's name.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use uuid::Uuid;

use crate::Result;

/// What a hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchKind {
    Meeting,
    AgendaItem,
    Paper,
    File,
    /// A page of a file's text (see `file_text`): the id is the page's, not the file's.
    FilePage,
}

impl SearchKind {
    pub const fn as_str(&self) -> &'static str {
        match self {
            SearchKind::Meeting => "meeting",
            SearchKind::AgendaItem => "agenda_item",
            SearchKind::Paper => "paper",
            SearchKind::File => "file",
            SearchKind::FilePage => "file_page",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "meeting" => SearchKind::Meeting,
            "agenda_item" => SearchKind::AgendaItem,
            "paper" => SearchKind::Paper,
            "file" => SearchKind::File,
            "file_page" => SearchKind::FilePage,
            _ => return None,
        })
    }
}

/// One candidate: the indexed title and body, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCandidate {
    pub kind: SearchKind,
    pub id: Uuid,
    pub title: String,
    pub body: String,
}

/// The words of a query: letters and digits only (everything else separates words), at most 8
/// words of at most 64 characters. Safe to splice into FTS5 and `to_tsquery` syntax.
pub fn query_words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().take(64).collect::<String>())
        .take(8)
        .collect()
}

/// Up to `limit` candidates for `query`, best first (empty for a query without words).
pub async fn search(
    db: &impl ConnectionTrait,
    query: &str,
    limit: u64,
) -> Result<Vec<SearchCandidate>> {
    let words = query_words(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let limit = limit.min(1000) as i64;
    let statement = match backend {
        DatabaseBackend::Postgres => {
            // Every word as a stemmed prefix, all required; plus the web search syntax for
            // phrases and `-` exclusions.
            let prefixes = words
                .iter()
                .map(|word| format!("{}:*", word.to_lowercase()))
                .collect::<Vec<_>>()
                .join(" & ");
            Statement::from_sql_and_values(
                backend,
                "SELECT kind, id, title, body FROM search_document, \
                   to_tsquery('german', $2) AS prefix, websearch_to_tsquery('german', $1) AS web \
                 WHERE tsv @@ prefix OR tsv @@ web \
                 ORDER BY ts_rank(tsv, prefix || web) DESC, title LIMIT $3",
                [query.into(), prefixes.into(), limit.into()],
            )
        }
        _ => {
            let terms = words
                .iter()
                .map(|word| format!("\"{word}\"*"))
                .collect::<Vec<_>>()
                .join(" ");
            Statement::from_sql_and_values(
                backend,
                "SELECT kind, id, title, body FROM search_index WHERE search_index MATCH ? \
                 ORDER BY bm25(search_index, 0.0, 0.0, 10.0, 1.0), title LIMIT ?",
                [terms.into(), limit.into()],
            )
        }
    };
    let rows = db.query_all_raw(statement).await?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("", "kind")?;
        let Some(kind) = SearchKind::parse(&kind) else {
            // A kind this version does not know (added by a newer migration): skip it.
            continue;
        };
        found.push(SearchCandidate {
            kind,
            id: row.try_get("", "id")?,
            title: row.try_get("", "title")?,
            body: row.try_get("", "body")?,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_keep_letters_and_digits_only() {
        assert_eq!(
            query_words("Haushalt* \"Grundstück\" OR -x:1 AND(2027)"),
            ["Haushalt", "Grundstück", "OR", "x", "1", "AND", "2027"]
        );
        assert!(query_words(" ' \" * ").is_empty());
    }
}
