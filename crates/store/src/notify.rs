//! Invitations, notifications and the e-mail outbox.
//!
//! A meeting's invitation and supplements are stored frozen (`invitation`, the JSON of
//! [`InvitationDocument`]). Every event members hear of (invitation, supplement, cancellation,
//! minutes published) writes, in the caller's transaction, one `notification` per current
//! member of the meeting's organization and one `outbox` row per member with an e-mail address
//! who wants e-mail of that kind. E-mails carry only public content: the meeting's name, time,
//! place, the PUBLIC agenda and a link.
//!
//! The outbox is sent by a worker (`plenum_api::mail`): it claims a row by moving it from
//! `queued`/`failed` to `sending` (one UPDATE with the old state in its WHERE: only one claimer
//! wins), sends it, and marks it `sent` or `failed` with the reason and the next attempt.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use plenum_domain::{
    AnnouncedItem, Announcement, InvitationDocument, InvitationKind, MeetingId, NotificationKind,
    PaperId, PersonId, UserId, german_date_time,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{invitation, notification, notification_setting, outbox};
use crate::{Result, StoreError, documents, repo};

// --- Invitations -------------------------------------------------------------------------------

/// An issued invitation or supplement.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredInvitation {
    pub id: Uuid,
    pub meeting: MeetingId,
    pub issued_by: Option<UserId>,
    pub document: InvitationDocument,
}

fn invitation_from(row: invitation::Model) -> Result<StoredInvitation> {
    let document = serde_json::from_str(&row.document)
        .map_err(|err| StoreError::Corrupt(format!("invitation {}: {err}", row.id)))?;
    Ok(StoredInvitation {
        id: row.id,
        meeting: MeetingId::from_uuid(row.meeting_id),
        issued_by: row.issued_by.map(UserId::from_uuid),
        document,
    })
}

/// The meeting's invitation and supplements, by number.
pub async fn invitations_of(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Vec<StoredInvitation>> {
    invitation::Entity::find()
        .filter(invitation::Column::MeetingId.eq(meeting.as_uuid()))
        .order_by_asc(invitation::Column::Number)
        .all(db)
        .await?
        .into_iter()
        .map(invitation_from)
        .collect()
}

/// The invitations and supplements of these meetings, by meeting and number.
pub async fn invitations_of_meetings(
    db: &impl ConnectionTrait,
    meetings: &[MeetingId],
) -> Result<HashMap<MeetingId, Vec<StoredInvitation>>> {
    let mut result: HashMap<MeetingId, Vec<StoredInvitation>> = HashMap::new();
    if meetings.is_empty() {
        return Ok(result);
    }
    for row in invitation::Entity::find()
        .filter(invitation::Column::MeetingId.is_in(meetings.iter().map(|m| m.as_uuid())))
        .order_by_asc(invitation::Column::Number)
        .all(db)
        .await?
    {
        let stored = invitation_from(row)?;
        result.entry(stored.meeting).or_default().push(stored);
    }
    Ok(result)
}

/// The public notice (öffentliche Bekanntmachung) of a meeting: its latest invitation or
/// supplement without anything non-public, and when the invitation was first issued. `None`
/// before the invitation. For the portal and OParl's `Meeting.invitation`.
pub async fn public_notice(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Option<(DateTime<Utc>, InvitationDocument)>> {
    let all = invitations_of(db, meeting).await?;
    Ok(match (all.first(), all.last()) {
        (Some(first), Some(last)) => Some((first.document.issued_at, last.document.public_part())),
        _ => None,
    })
}

/// Stores an issued document.
pub async fn insert_invitation(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    issued_by: Option<UserId>,
    document: &InvitationDocument,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let json = serde_json::to_string(document)
        .map_err(|err| StoreError::Corrupt(format!("invitation document: {err}")))?;
    invitation::Entity::insert(invitation::ActiveModel {
        id: Set(id),
        meeting_id: Set(meeting.as_uuid()),
        kind: Set(document.kind.as_str().to_owned()),
        number: Set(i32::try_from(document.number).unwrap_or(i32::MAX)),
        issued_at: Set(document.issued_at),
        issued_by: Set(issued_by.map(|u| u.as_uuid())),
        late_reason: Set(document.late_reason.as_ref().map(|r| r.as_str().to_owned())),
        document: Set(json),
    })
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// What the meeting announces now: time, place and agenda (public and non-public, in agenda
/// order). Paper references of public items only name public papers.
pub async fn current_announcement(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
) -> Result<Announcement> {
    let meeting = repo::meetings::get_live(db, meeting).await?;
    let organization = repo::organizations::get(db, meeting.organization_id).await?;
    let location = match meeting.location_id {
        Some(id) => Some(repo::locations::get(db, id).await?),
        None => None,
    };
    let mut items = repo::agenda_items::list_by_meeting(db, meeting.id, false).await?;
    items.sort_by_key(|i| (!i.public, i.position));
    let paper_ids: Vec<PaperId> = items.iter().filter_map(|i| i.paper_id).collect();
    let papers: HashMap<PaperId, plenum_domain::Paper> = documents::papers_by_id(db, &paper_ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(Announcement {
        meeting: meeting.name.as_str().to_owned(),
        organization: organization.name.as_str().to_owned(),
        start: meeting.start,
        end: meeting.end,
        location: location.map(|l| l.description.as_str().to_owned()),
        items: items
            .iter()
            .map(|item| AnnouncedItem {
                id: item.id.as_uuid(),
                number: item.number.as_str().to_owned(),
                public: item.public,
                title: item.title.as_str().to_owned(),
                paper_reference: item
                    .paper_id
                    .and_then(|p| papers.get(&p))
                    .filter(|p| p.public || !item.public)
                    .map(|p| p.reference.to_string()),
            })
            .collect(),
    })
}

// --- Notifications -----------------------------------------------------------------------------

/// A notification as its member sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub meeting: MeetingId,
    /// The invitation or supplement it announces.
    pub invitation: Option<Uuid>,
    /// Safe for the member (the meeting's name and date; meetings are public).
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn notification_from(row: notification::Model) -> Result<(PersonId, Notification)> {
    Ok((
        PersonId::from_uuid(row.person_id),
        Notification {
            id: row.id,
            kind: NotificationKind::parse(&row.kind)?,
            meeting: MeetingId::from_uuid(row.meeting_id),
            invitation: row.invitation_id,
            title: row.title,
            created_at: row.created_at,
            read_at: row.read_at,
        },
    ))
}

/// The person's newest `limit` notifications, newest first.
pub async fn notifications_of(
    db: &impl ConnectionTrait,
    person: PersonId,
    limit: u64,
) -> Result<Vec<Notification>> {
    notification::Entity::find()
        .filter(notification::Column::PersonId.eq(person.as_uuid()))
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|row| notification_from(row).map(|(_, n)| n))
        .collect()
}

/// How many of the person's notifications are unread.
pub async fn unread_count(db: &impl ConnectionTrait, person: PersonId) -> Result<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::PersonId.eq(person.as_uuid()))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the person's notifications read (kept read if it was); `NotFound` if it is not
/// theirs.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    person: PersonId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<()> {
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::PersonId.eq(person.as_uuid()))
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("notification", id))?;
    if found.read_at.is_none() {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(at))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Marks all of the person's notifications read; how many were unread.
pub async fn mark_all_read(
    db: &impl ConnectionTrait,
    person: PersonId,
    at: DateTime<Utc>,
) -> Result<u64> {
    Ok(notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(at))
        .filter(notification::Column::PersonId.eq(person.as_uuid()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// The person's e-mail choice per kind (on unless switched off).
pub async fn email_settings(
    db: &impl ConnectionTrait,
    person: PersonId,
) -> Result<Vec<(NotificationKind, bool)>> {
    let off = email_off(db, &[person]).await?;
    Ok(NotificationKind::ALL
        .into_iter()
        .map(|kind| (kind, !off.contains(&(person, kind))))
        .collect())
}

/// Which (person, kind) pairs have e-mail switched off.
async fn email_off(
    db: &impl ConnectionTrait,
    persons: &[PersonId],
) -> Result<HashSet<(PersonId, NotificationKind)>> {
    if persons.is_empty() {
        return Ok(HashSet::new());
    }
    let mut off = HashSet::new();
    for row in notification_setting::Entity::find()
        .filter(notification_setting::Column::PersonId.is_in(persons.iter().map(|p| p.as_uuid())))
        .filter(notification_setting::Column::Email.eq(false))
        .all(db)
        .await?
    {
        if let Ok(kind) = NotificationKind::parse(&row.kind) {
            off.insert((PersonId::from_uuid(row.person_id), kind));
        }
    }
    Ok(off)
}

/// Sets the person's e-mail choice for the given kinds.
pub async fn put_email_settings(
    db: &impl ConnectionTrait,
    person: PersonId,
    settings: &[(NotificationKind, bool)],
) -> Result<()> {
    for (kind, email) in settings {
        notification_setting::Entity::insert(notification_setting::ActiveModel {
            person_id: Set(person.as_uuid()),
            kind: Set(kind.as_str().to_owned()),
            email: Set(*email),
        })
        .on_conflict(
            OnConflict::columns([
                notification_setting::Column::PersonId,
                notification_setting::Column::Kind,
            ])
            .update_column(notification_setting::Column::Email)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// An event members are told of.
#[derive(Debug, Clone)]
pub struct MeetingNews<'a> {
    pub kind: NotificationKind,
    pub meeting: MeetingId,
    /// The invitation or supplement it announces.
    pub invitation: Option<&'a InvitationDocument>,
    pub invitation_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// Where members open Plenum (`public_url`), for the link in e-mails; `None`: no link.
    pub link_base: Option<&'a str>,
}

/// Tells every current member of the meeting's organization: one notification each, and one
/// queued e-mail for each with an address who wants e-mail of this kind. Call inside the
/// transaction of the event. Returns the notifications written, by person (send them live after
/// the commit).
pub async fn notify_members(
    db: &impl ConnectionTrait,
    news: &MeetingNews<'_>,
) -> Result<Vec<(PersonId, Notification)>> {
    let meeting = repo::meetings::get(db, news.meeting).await?;
    let today = news.at.date_naive();
    let mut persons: Vec<PersonId> =
        repo::memberships::list_by_organization(db, meeting.organization_id, false)
            .await?
            .into_iter()
            .filter(|m| m.is_active_on(today))
            .map(|m| m.person_id)
            .collect();
    persons.sort();
    persons.dedup();
    let when = german_date_time(meeting.start);
    let title = match news.kind {
        NotificationKind::Invitation => format!("Einladung: {} am {when}", meeting.name.as_str()),
        NotificationKind::Supplement => format!(
            "Nachtrag {} zur Einladung: {} am {when}",
            news.invitation.map_or(0, |d| d.number.saturating_sub(1)),
            meeting.name.as_str()
        ),
        NotificationKind::Cancellation => {
            format!("Abgesagt: {} am {when}", meeting.name.as_str())
        }
        NotificationKind::MinutesPublished => {
            format!(
                "Niederschrift veröffentlicht: {} am {when}",
                meeting.name.as_str()
            )
        }
    };
    let announcement = match news.invitation {
        Some(doc) => doc.public_part(),
        None => {
            let announced = current_announcement(db, meeting.id).await?;
            InvitationDocument {
                kind: InvitationKind::Invitation,
                number: 0,
                issued_at: news.at,
                deadline: news.at,
                late_reason: None,
                announced,
                changes: None,
            }
            .public_part()
        }
    };
    let body = mail_body(news, &title, &announcement);
    let off = email_off(db, &persons).await?;
    let organization = repo::organizations::get(db, meeting.organization_id).await?;
    let addresses: HashMap<PersonId, String> =
        repo::persons::list_by_body(db, organization.body_id, false)
            .await?
            .into_iter()
            .filter_map(|p| p.email.map(|e| (p.id, e.as_str().to_owned())))
            .collect();
    let mut written = Vec::with_capacity(persons.len());
    let mut notifications = Vec::with_capacity(persons.len());
    let mut mails = Vec::new();
    for person in persons {
        let id = Uuid::now_v7();
        notifications.push(notification::ActiveModel {
            id: Set(id),
            person_id: Set(person.as_uuid()),
            kind: Set(news.kind.as_str().to_owned()),
            meeting_id: Set(meeting.id.as_uuid()),
            invitation_id: Set(news.invitation_id),
            title: Set(title.clone()),
            created_at: Set(news.at),
            read_at: Set(None),
        });
        written.push((
            person,
            Notification {
                id,
                kind: news.kind,
                meeting: meeting.id,
                invitation: news.invitation_id,
                title: title.clone(),
                created_at: news.at,
                read_at: None,
            },
        ));
        if off.contains(&(person, news.kind)) {
            continue;
        }
        let Some(address) = addresses.get(&person) else {
            continue;
        };
        mails.push(outbox::ActiveModel {
            id: Set(Uuid::now_v7()),
            person_id: Set(Some(person.as_uuid())),
            recipient: Set(address.clone()),
            subject: Set(title.clone()),
            body: Set(body.clone()),
            kind: Set(news.kind.as_str().to_owned()),
            meeting_id: Set(Some(meeting.id.as_uuid())),
            invitation_id: Set(news.invitation_id),
            state: Set(STATE_QUEUED.to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(Some(news.at)),
            last_error: Set(None),
            created_at: Set(news.at),
            sent_at: Set(None),
        });
    }
    for chunk in notifications.chunks(200) {
        notification::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in mails.chunks(200) {
        outbox::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// Tells the meeting's members that its signed minutes are published (for the minutes'
/// publication to call inside its transaction).
pub async fn notify_minutes_published(
    db: &impl ConnectionTrait,
    meeting: MeetingId,
    at: DateTime<Utc>,
    link_base: Option<&str>,
) -> Result<Vec<(PersonId, Notification)>> {
    notify_members(
        db,
        &MeetingNews {
            kind: NotificationKind::MinutesPublished,
            meeting,
            invitation: None,
            invitation_id: None,
            at,
            link_base,
        },
    )
    .await
}

/// The text of the e-mail: only what `public` (already the public part) holds.
fn mail_body(news: &MeetingNews<'_>, title: &str, public: &InvitationDocument) -> String {
    let a = &public.announced;
    let mut text = String::new();
    text.push_str(title);
    text.push_str("\n\n");
    text.push_str(&format!("Gremium: {}\n", a.organization));
    text.push_str(&format!("Sitzung: {}\n", a.meeting));
    text.push_str(&format!("Beginn: {}\n", german_date_time(a.start)));
    if let Some(location) = &a.location {
        text.push_str(&format!("Ort: {location}\n"));
    }
    if let Some(reason) = &public.late_reason {
        text.push_str(&format!(
            "\nDie Ladungsfrist wurde verkürzt. Begründung: {}\n",
            reason.as_str()
        ));
    }
    let line = |item: &AnnouncedItem| match &item.paper_reference {
        Some(reference) => format!("{}  {} (Drucksache {reference})\n", item.number, item.title),
        None => format!("{}  {}\n", item.number, item.title),
    };
    if let Some(changes) = &public.changes {
        if !changes.added.is_empty() {
            text.push_str("\nNeu auf der Tagesordnung (öffentlicher Teil):\n");
            changes.added.iter().for_each(|i| text.push_str(&line(i)));
        }
        if !changes.moved.is_empty() {
            text.push_str("\nVerschoben:\n");
            for m in &changes.moved {
                text.push_str(&format!(
                    "{} (bisher {})  {}\n",
                    m.item.number, m.previous_number, m.item.title
                ));
            }
        }
        if !changes.withdrawn.is_empty() {
            text.push_str("\nAbgesetzt:\n");
            changes
                .withdrawn
                .iter()
                .for_each(|i| text.push_str(&line(i)));
        }
    }
    if news.kind != NotificationKind::Cancellation && !a.items.is_empty() {
        text.push_str("\nTagesordnung, öffentlicher Teil:\n");
        a.items.iter().for_each(|i| text.push_str(&line(i)));
    }
    text.push_str(
        "\nDen nichtöffentlichen Teil und die Unterlagen finden Sie nach der Anmeldung in Plenum.\n",
    );
    if let Some(base) = news.link_base {
        text.push_str(&format!(
            "{}/#/meetings/{}\n",
            base.trim_end_matches('/'),
            news.meeting
        ));
    }
    text
}

// --- Outbox ------------------------------------------------------------------------------------

pub const STATE_QUEUED: &str = "queued";
pub const STATE_SENDING: &str = "sending";
pub const STATE_SENT: &str = "sent";
pub const STATE_FAILED: &str = "failed";

/// A claimed e-mail, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts before this one.
    pub attempts: u32,
}

/// Ids of e-mails due now (queued, or failed with a next attempt due), oldest first.
pub async fn due_mail(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(outbox::Column::State.is_in([STATE_QUEUED, STATE_FAILED]))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// When the next e-mail is due, if any waits.
pub async fn next_due(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::NextAttemptAt)
        .filter(outbox::Column::State.is_in([STATE_QUEUED, STATE_FAILED]))
        .filter(outbox::Column::NextAttemptAt.is_not_null())
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(1)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// How long a claim holds: a node that claimed an e-mail and did not record the outcome within
/// it (it stopped, or lost the database) is taken to have stopped, and the e-mail is queued
/// again (`release_claims`). Far longer than sending takes (SMTP timeouts are 20 s).
pub const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// Claims an e-mail for sending: moves it to `sending` if it is still due. `None` when someone
/// else claimed it first (or it is no longer due). While `sending`, `next_attempt_at` holds
/// when the claim runs out ([`CLAIM_LEASE`]).
pub async fn claim(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Mail>> {
    let done = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(STATE_SENDING))
        .col_expr(
            outbox::Column::NextAttemptAt,
            Expr::value(Some(now + CLAIM_LEASE)),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.is_in([STATE_QUEUED, STATE_FAILED]))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    let row = outbox::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::not_found("outbox", id))?;
    Ok(Some(Mail {
        id: row.id,
        recipient: row.recipient,
        subject: row.subject,
        body: row.body,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
    }))
}

/// The claimed e-mail was accepted by the mail server.
pub async fn mark_sent(db: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(STATE_SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(at))
        .col_expr(
            outbox::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(STATE_SENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// The claimed e-mail could not be sent: `failed` with the reason; tried again at `next`
/// (`None`: given up, a permanent error).
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> Result<()> {
    let error: String = error.chars().take(1000).collect();
    outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(STATE_FAILED))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::State.eq(STATE_SENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts e-mails left `sending` by a stopped node back in the queue: those whose claim ran out
/// ([`CLAIM_LEASE`]; claims of versions before the lease have none). A claim still running is
/// left alone, so a node that starts while another one sends does not send the same e-mail
/// again. An e-mail the stopped node was sending may have reached the mail server: it goes
/// again with the same Message-ID (at least once; see the README).
pub async fn release_claims(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    Ok(outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(STATE_QUEUED))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(Some(now)))
        .filter(outbox::Column::State.eq(STATE_SENDING))
        .filter(
            Condition::any()
                .add(outbox::Column::NextAttemptAt.is_null())
                .add(outbox::Column::NextAttemptAt.lt(now)),
        )
        .exec(db)
        .await?
        .rows_affected)
}

/// The delivery state of one e-mail, for the clerk.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub person: Option<PersonId>,
    pub recipient: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The e-mails of an invitation or supplement.
pub async fn deliveries(db: &impl ConnectionTrait, invitation: Uuid) -> Result<Vec<Delivery>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::InvitationId.eq(invitation))
        .order_by_asc(outbox::Column::Recipient)
        .all(db)
        .await?
        .into_iter()
        .map(|row| Delivery {
            id: row.id,
            person: row.person_id.map(PersonId::from_uuid),
            recipient: row.recipient,
            state: row.state,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            sent_at: row.sent_at,
        })
        .collect())
}

#[cfg(all(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::testing::TestDb;

    async fn queued(db: &impl ConnectionTrait, at: DateTime<Utc>) -> Uuid {
        let id = Uuid::now_v7();
        outbox::Entity::insert(outbox::ActiveModel {
            id: Set(id),
            person_id: Set(None),
            recipient: Set("anna@example.org".into()),
            subject: Set("Einladung".into()),
            body: Set("…".into()),
            kind: Set("invitation".into()),
            meeting_id: Set(None),
            invitation_id: Set(None),
            state: Set(STATE_QUEUED.into()),
            attempts: Set(0),
            next_attempt_at: Set(Some(at)),
            last_error: Set(None),
            created_at: Set(at),
            sent_at: Set(None),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
        id
    }

    /// A node that starts while another one sends an e-mail leaves that claim alone (it used
    /// to queue it again, and the e-mail went twice); a claim whose node stopped is queued
    /// again once it ran out.
    #[tokio::test]
    async fn a_claim_holds_until_its_lease_runs_out() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let Some(test_db) = TestDb::migrated(backend).await else {
                continue;
            };
            let db = &test_db.db;
            let t0 = Utc::now();
            let id = queued(db, t0).await;
            assert!(claim(db, id, t0).await.unwrap().is_some(), "{backend:?}");
            assert!(claim(db, id, t0).await.unwrap().is_none(), "claimed once");
            let minute = t0 + chrono::Duration::minutes(1);
            assert_eq!(release_claims(db, minute).await.unwrap(), 0, "{backend:?}");
            assert!(due_mail(db, minute, 10).await.unwrap().is_empty());
            assert_eq!(next_due(db).await.unwrap(), None, "a claim is not due");

            let later = t0 + CLAIM_LEASE + chrono::Duration::seconds(1);
            assert_eq!(release_claims(db, later).await.unwrap(), 1, "{backend:?}");
            assert_eq!(due_mail(db, later, 10).await.unwrap(), vec![id]);
            let mail = claim(db, id, later).await.unwrap().expect("claimed again");
            mark_sent(db, mail.id, later).await.unwrap();
            assert_eq!(
                release_claims(db, later + CLAIM_LEASE * 2).await.unwrap(),
                0
            );
            assert!(
                due_mail(db, later + CLAIM_LEASE * 2, 10)
                    .await
                    .unwrap()
                    .is_empty(),
                "sent once"
            );
        }
    }
}
