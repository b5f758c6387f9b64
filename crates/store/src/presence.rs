//! Who has a live connection at which node, when several nodes share one PostgreSQL database.
//! A node writes a row per person when the person's first connection to it opens and deletes it
//! when their last one closes (in batches, see `plenum_api`'s cluster), and says every second
//! that it is alive (`live_node`). A person counts as connected elsewhere while a row of theirs
//! belongs to another node that is alive, so the rows of a node that died count for nothing and
//! are pruned later. Notes, forum posts and unread counts are sent only to those connected
//! somewhere: at a convention a forum post no longer goes to every node for each of thousands of
//! members. SQLite (one node) keeps the connections in memory only; these tables stay empty.

use std::time::Duration;

use plenum_domain::PersonId;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use uuid::Uuid;

use crate::Result;
use crate::lease::millis;

/// The persons as one JSON parameter (a JSON array of ids).
fn ids(persons: &[PersonId]) -> sea_orm::Value {
    serde_json::to_string(persons)
        .unwrap_or_else(|_| "[]".into())
        .into()
}

/// `node` is alive for `ttl` from now.
pub async fn node_alive(db: &impl ConnectionTrait, node: Uuid, ttl: Duration) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO live_node (node_id, expires) \
         VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond') \
         ON CONFLICT (node_id) DO UPDATE SET expires = EXCLUDED.expires",
        [node.into(), millis(ttl).into()],
    ))
    .await?;
    Ok(())
}

/// Records that `joined` now have a connection at `node` and `left` no longer have any there.
pub async fn record(
    db: &impl ConnectionTrait,
    node: Uuid,
    joined: &[PersonId],
    left: &[PersonId],
) -> Result<()> {
    if !joined.is_empty() {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO live_presence (node_id, person_id) \
             SELECT $1, (value #>> '{}')::uuid FROM json_array_elements($2::json) \
             ON CONFLICT DO NOTHING",
            [node.into(), ids(joined)],
        ))
        .await?;
    }
    if !left.is_empty() {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "DELETE FROM live_presence WHERE node_id = $1 AND person_id IN \
             (SELECT (value #>> '{}')::uuid FROM json_array_elements($2::json))",
            [node.into(), ids(left)],
        ))
        .await?;
    }
    Ok(())
}

/// Which of `persons` have a connection at a live node other than `node`.
pub async fn connected_elsewhere(
    db: &impl ConnectionTrait,
    node: Uuid,
    persons: &[PersonId],
) -> Result<Vec<PersonId>> {
    if persons.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT DISTINCT p.person_id FROM live_presence p \
             JOIN live_node n ON n.node_id = p.node_id \
             WHERE p.node_id <> $1 AND n.expires > clock_timestamp() AND p.person_id IN \
             (SELECT (value #>> '{}')::uuid FROM json_array_elements($2::json))",
            [node.into(), ids(persons)],
        ))
        .await?;
    rows.into_iter()
        .map(|row| Ok(PersonId::from_uuid(row.try_get("", "person_id")?)))
        .collect()
}

/// Forgets `node` and its connections (at a clean shutdown).
pub async fn forget_node(db: &impl ConnectionTrait, node: Uuid) -> Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "DELETE FROM live_presence WHERE node_id = $1",
        [node.into()],
    ))
    .await?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "DELETE FROM live_node WHERE node_id = $1",
        [node.into()],
    ))
    .await?;
    Ok(())
}

/// Removes the nodes dead for over a minute, and their rows; how many nodes went.
pub async fn prune(db: &impl ConnectionTrait) -> Result<u64> {
    db.execute_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        "DELETE FROM live_presence p USING live_node n \
         WHERE n.node_id = p.node_id AND n.expires < clock_timestamp() - interval '1 minute'",
    ))
    .await?;
    let gone = db
        .execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "DELETE FROM live_node WHERE expires < clock_timestamp() - interval '1 minute'",
        ))
        .await?;
    Ok(gone.rows_affected())
}
