//! Repositories: one module per object, each taking any connection or transaction.
//!
//! Every module has `insert`, `get` (deleted or not: OParl serves tombstones), `get_live`,
//! `update` and `delete` (a soft delete that leaves a tombstone), plus the lists its callers need.

use plenum_domain::*;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::Result;
use crate::entity;
use crate::record;

/// Ids per `IN (…)` list: well below the bind-parameter limits of SQLite and PostgreSQL.
const IN_LIST_CHUNK: usize = 1_000;

macro_rules! crud {
    ($ty:ty, $id:ty) => {
        /// Validates and stores a new object; `created`/`modified` are set to now.
        pub async fn insert(db: &impl ConnectionTrait, value: $ty) -> Result<$ty> {
            record::insert(db, value).await
        }
        /// The object, deleted or not.
        pub async fn get(db: &impl ConnectionTrait, id: $id) -> Result<$ty> {
            record::get(db, id.as_uuid()).await
        }
        /// The object, unless it is deleted.
        pub async fn get_live(db: &impl ConnectionTrait, id: $id) -> Result<$ty> {
            record::get_live(db, id.as_uuid()).await
        }
        /// Validates and overwrites the stored object; `modified` is set to now.
        pub async fn update(db: &impl ConnectionTrait, value: $ty) -> Result<$ty> {
            record::update(db, value).await
        }
        /// Locks the live row until the transaction `db` ends (see `record::lock`); `NotFound`
        /// if there is none.
        pub async fn lock(db: &impl ConnectionTrait, id: $id) -> Result<()> {
            record::lock::<$ty>(db, id.as_uuid(), C::Id).await
        }
        /// Soft-deletes the object, leaving a tombstone.
        pub async fn delete(db: &impl ConnectionTrait, id: $id) -> Result<$ty> {
            record::soft_delete(db, id.as_uuid()).await
        }
    };
}

pub mod bodies {
    use super::*;
    use entity::body::Column as C;
    crud!(Body, BodyId);

    pub async fn list(db: &impl ConnectionTrait, include_deleted: bool) -> Result<Vec<Body>> {
        record::list(db, Condition::all(), include_deleted, [C::Created, C::Id]).await
    }
}

pub mod legislative_terms {
    use super::*;
    use entity::legislative_term::Column as C;
    crud!(LegislativeTerm, LegislativeTermId);

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<LegislativeTerm>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(db, cond, include_deleted, [C::StartDate, C::Id]).await
    }
}

pub mod organizations {
    use super::*;
    use entity::organization::Column as C;
    crud!(Organization, OrganizationId);

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<Organization>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(db, cond, include_deleted, [C::Name, C::Id]).await
    }

    /// The organizations with these ids, deleted ones included (one query).
    pub async fn list_by_ids(
        db: &impl ConnectionTrait,
        ids: &[OrganizationId],
    ) -> Result<Vec<Organization>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let cond = Condition::all().add(C::Id.is_in(ids.iter().map(|id| id.as_uuid())));
        record::list(db, cond, true, [C::Name, C::Id]).await
    }
}

pub mod persons {
    use super::*;
    use entity::person::Column as C;
    crud!(Person, PersonId);

    /// Every person of every body, by family and given name.
    pub async fn list(db: &impl ConnectionTrait, include_deleted: bool) -> Result<Vec<Person>> {
        record::list(
            db,
            Condition::all(),
            include_deleted,
            [C::FamilyName, C::GivenName, C::Id],
        )
        .await
    }

    /// The persons with these ids, deleted ones included (one query per thousand ids).
    pub async fn list_by_ids(db: &impl ConnectionTrait, ids: &[PersonId]) -> Result<Vec<Person>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_LIST_CHUNK) {
            let cond = Condition::all().add(C::Id.is_in(chunk.iter().map(|id| id.as_uuid())));
            found.extend(record::list(db, cond, true, [C::Id]).await?);
        }
        Ok(found)
    }

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<Person>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(
            db,
            cond,
            include_deleted,
            [C::FamilyName, C::GivenName, C::Id],
        )
        .await
    }
}

pub mod users {
    use super::*;
    use entity::user_account::Column as C;
    crud!(User, UserId);

    /// The live account with this login name.
    pub async fn find_by_username(
        db: &impl ConnectionTrait,
        username: &Username,
    ) -> Result<Option<User>> {
        let cond = Condition::all().add(C::Username.eq(username.as_str()));
        Ok(record::list(db, cond, false, [C::Id])
            .await?
            .into_iter()
            .next())
    }

    pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<User>> {
        record::list(db, Condition::all(), false, [C::Username]).await
    }

    /// The live account of a person, if they have one.
    pub async fn find_by_person(
        db: &impl ConnectionTrait,
        person: PersonId,
    ) -> Result<Option<User>> {
        let cond = Condition::all().add(C::PersonId.eq(person.as_uuid()));
        Ok(record::list(db, cond, false, [C::Id])
            .await?
            .into_iter()
            .next())
    }
}

pub mod memberships {
    use super::*;
    use entity::membership::Column as C;
    crud!(Membership, MembershipId);

    pub async fn list_by_organization(
        db: &impl ConnectionTrait,
        organization: OrganizationId,
        include_deleted: bool,
    ) -> Result<Vec<Membership>> {
        let cond = Condition::all().add(C::OrganizationId.eq(organization.as_uuid()));
        record::list(db, cond, include_deleted, [C::StartDate, C::Id]).await
    }

    pub async fn list_by_person(
        db: &impl ConnectionTrait,
        person: PersonId,
        include_deleted: bool,
    ) -> Result<Vec<Membership>> {
        let cond = Condition::all().add(C::PersonId.eq(person.as_uuid()));
        record::list(db, cond, include_deleted, [C::StartDate, C::Id]).await
    }

    /// The memberships of these persons, each person's in the order of
    /// [`list_by_person`] (one query per thousand persons).
    pub async fn list_by_persons(
        db: &impl ConnectionTrait,
        persons: &[PersonId],
        include_deleted: bool,
    ) -> Result<Vec<Membership>> {
        let mut found = Vec::new();
        for chunk in persons.chunks(IN_LIST_CHUNK) {
            let cond = Condition::all().add(C::PersonId.is_in(chunk.iter().map(|id| id.as_uuid())));
            found.extend(record::list(db, cond, include_deleted, [C::StartDate, C::Id]).await?);
        }
        Ok(found)
    }
}

pub mod locations {
    use super::*;
    use entity::location::Column as C;
    crud!(Location, LocationId);

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<Location>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(db, cond, include_deleted, [C::Description, C::Id]).await
    }
}

pub mod meetings {
    use super::*;
    use entity::meeting::Column as C;
    crud!(Meeting, MeetingId);

    pub async fn list_by_organization(
        db: &impl ConnectionTrait,
        organization: OrganizationId,
        include_deleted: bool,
    ) -> Result<Vec<Meeting>> {
        let cond = Condition::all().add(C::OrganizationId.eq(organization.as_uuid()));
        record::list(db, cond, include_deleted, [C::Start, C::Id]).await
    }

    /// Every meeting of the body's organizations, by start time.
    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<Meeting>> {
        let organizations = entity::organization::Entity::find()
            .filter(entity::organization::Column::BodyId.eq(body.as_uuid()))
            .all(db)
            .await?
            .into_iter()
            .map(|o| o.id);
        let cond = Condition::all().add(C::OrganizationId.is_in(organizations));
        record::list(db, cond, include_deleted, [C::Start, C::Id]).await
    }

    /// Switches the meeting's state if the state machine allows it.
    pub async fn transition(
        db: &impl ConnectionTrait,
        id: MeetingId,
        next: MeetingState,
    ) -> Result<Meeting> {
        let mut meeting = get_live(db, id).await?;
        meeting.state = meeting.state.transition(next)?;
        if next == MeetingState::Invited {
            meeting.invited_at = Some(record::now());
        }
        update(db, meeting).await
    }
}

pub mod papers {
    use super::*;
    use entity::paper::Column as C;
    crud!(Paper, PaperId);

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<Paper>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(db, cond, include_deleted, [C::Date, C::Reference]).await
    }

    pub async fn find_by_reference(
        db: &impl ConnectionTrait,
        body: BodyId,
        reference: &PaperReference,
    ) -> Result<Option<Paper>> {
        let cond = Condition::all()
            .add(C::BodyId.eq(body.as_uuid()))
            .add(C::Reference.eq(reference.as_str()));
        Ok(record::list(db, cond, true, [C::Id])
            .await?
            .into_iter()
            .next())
    }
}

pub mod agenda_items {
    use super::*;
    use entity::agenda_item::Column as C;
    crud!(AgendaItem, AgendaItemId);

    /// The meeting's agenda, in order.
    pub async fn list_by_meeting(
        db: &impl ConnectionTrait,
        meeting: MeetingId,
        include_deleted: bool,
    ) -> Result<Vec<AgendaItem>> {
        let cond = Condition::all().add(C::MeetingId.eq(meeting.as_uuid()));
        record::list(db, cond, include_deleted, [C::Position, C::Id]).await
    }
}

pub mod consultations {
    use super::*;
    use entity::consultation::Column as C;
    crud!(Consultation, ConsultationId);

    /// The paper's Beratungsfolge, in order.
    pub async fn list_by_paper(
        db: &impl ConnectionTrait,
        paper: PaperId,
        include_deleted: bool,
    ) -> Result<Vec<Consultation>> {
        let cond = Condition::all().add(C::PaperId.eq(paper.as_uuid()));
        record::list(db, cond, include_deleted, [C::Position, C::Id]).await
    }
}

pub mod files {
    use super::*;
    use entity::file::Column as C;
    crud!(File, FileId);

    pub async fn list_by_paper(
        db: &impl ConnectionTrait,
        paper: PaperId,
        include_deleted: bool,
    ) -> Result<Vec<File>> {
        let cond = Condition::all().add(C::PaperId.eq(paper.as_uuid()));
        record::list(db, cond, include_deleted, [C::Name, C::Id]).await
    }

    pub async fn list_by_body(
        db: &impl ConnectionTrait,
        body: BodyId,
        include_deleted: bool,
    ) -> Result<Vec<File>> {
        let cond = Condition::all().add(C::BodyId.eq(body.as_uuid()));
        record::list(db, cond, include_deleted, [C::Created, C::Id]).await
    }

    /// Live files whose SHA-512 is not recorded yet (stored before Plenum recorded it).
    pub async fn without_sha512(db: &impl ConnectionTrait) -> Result<Vec<File>> {
        let cond = Condition::all().add(C::Sha512.is_null());
        record::list(db, cond, false, [C::Id]).await
    }

    /// Records a file's SHA-512 if none is recorded yet; its `modified` moves to `now` (OParl
    /// serves a new field). Only that column and `modified` are written, so a concurrent edit of
    /// the file is not overwritten. Whether it was written.
    pub async fn set_sha512(
        db: &impl ConnectionTrait,
        id: FileId,
        sha512: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool> {
        use sea_orm::sea_query::Expr;
        let result = entity::file::Entity::update_many()
            .col_expr(C::Sha512, Expr::value(sha512.to_owned()))
            .col_expr(C::Modified, Expr::value(now))
            .filter(C::Id.eq(id.as_uuid()))
            .filter(C::Sha512.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Whether a live file still references the blob with this key (if not, the blob may go).
    pub async fn blob_referenced(db: &impl ConnectionTrait, storage_key: &str) -> Result<bool> {
        let count = entity::file::Entity::find()
            .filter(C::StorageKey.eq(storage_key))
            .filter(C::Deleted.is_null())
            .count(db)
            .await?;
        Ok(count > 0)
    }

    /// A live file with this content, to store identical content once.
    pub async fn find_by_sha256(
        db: &impl ConnectionTrait,
        sha256: &Sha256Digest,
    ) -> Result<Option<File>> {
        let cond = Condition::all().add(C::Sha256.eq(sha256.to_hex()));
        Ok(record::list(db, cond, false, [C::Id])
            .await?
            .into_iter()
            .next())
    }
}

/// Row counts of a body, for the system overview and the demo loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyCounts {
    pub organizations: u64,
    pub persons: u64,
    pub meetings: u64,
    pub papers: u64,
}

/// Counts the body's live organizations, persons, meetings and papers.
pub async fn count_body(db: &impl ConnectionTrait, body: BodyId) -> Result<BodyCounts> {
    use entity::{meeting, organization, paper, person};
    let organization_ids: Vec<uuid::Uuid> = organization::Entity::find()
        .filter(organization::Column::BodyId.eq(body.as_uuid()))
        .filter(organization::Column::Deleted.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    Ok(BodyCounts {
        organizations: organization_ids.len() as u64,
        persons: person::Entity::find()
            .filter(person::Column::BodyId.eq(body.as_uuid()))
            .filter(person::Column::Deleted.is_null())
            .count(db)
            .await?,
        meetings: meeting::Entity::find()
            .filter(meeting::Column::OrganizationId.is_in(organization_ids))
            .filter(meeting::Column::Deleted.is_null())
            .count(db)
            .await?,
        papers: paper::Entity::find()
            .filter(paper::Column::BodyId.eq(body.as_uuid()))
            .filter(paper::Column::Deleted.is_null())
            .count(db)
            .await?,
    })
}
