//! Login state: TOTP second factors (with the replay guard), recovery codes, device sessions,
//! pending logins (between password and second factor), known devices, the second factor's
//! guess budget, password setup links, personal calendar feeds. Every "use once" rule is a conditional update, so two parallel
//! requests can never both pass.

use chrono::{DateTime, Utc};
use plenum_domain::{CalendarFeed, DeviceSession, DeviceSessionId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::entity::{
    calendar_feed, device_session, known_device, pending_login, recovery_code, second_factor_guard,
    setup_link, user_totp,
};
use crate::{Result, StoreError};

/// A user's second factor as stored (the secret stays encrypted here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpState {
    /// The secret, encrypted by the API with the server's key file.
    pub secret_enc: String,
    /// Only an enrolment confirmed with a valid code is enabled.
    pub enabled: bool,
    /// The last accepted time step.
    pub last_step: u64,
}

pub mod totp {
    use super::*;

    pub async fn get(db: &impl ConnectionTrait, user: UserId) -> Result<Option<TotpState>> {
        Ok(user_totp::Entity::find_by_id(user.as_uuid())
            .one(db)
            .await?
            .map(|m| TotpState {
                secret_enc: m.secret_enc,
                enabled: m.enabled,
                last_step: u64::try_from(m.last_step).unwrap_or(0),
            }))
    }

    /// Starts (or restarts) an enrolment with a new secret. Refused once a factor is enabled.
    pub async fn begin_enrolment(
        db: &impl ConnectionTrait,
        user: UserId,
        secret_enc: String,
        now: DateTime<Utc>,
    ) -> Result<()> {
        match get(db, user).await? {
            Some(state) if state.enabled => Err(StoreError::Conflict(
                "a second factor is already enabled".into(),
            )),
            Some(_) => {
                user_totp::Entity::update_many()
                    .col_expr(user_totp::Column::SecretEnc, Expr::value(secret_enc))
                    .col_expr(user_totp::Column::Created, Expr::value(now))
                    .col_expr(user_totp::Column::LastStep, Expr::value(0i64))
                    .filter(user_totp::Column::UserId.eq(user.as_uuid()))
                    .filter(user_totp::Column::Enabled.eq(false))
                    .exec(db)
                    .await?;
                Ok(())
            }
            None => {
                user_totp::ActiveModel {
                    user_id: Set(user.as_uuid()),
                    secret_enc: Set(secret_enc),
                    enabled: Set(false),
                    created: Set(now),
                    enabled_at: Set(None),
                    last_step: Set(0),
                }
                .insert(db)
                .await?;
                Ok(())
            }
        }
    }

    /// Enables a pending enrolment.
    pub async fn enable(db: &impl ConnectionTrait, user: UserId, now: DateTime<Utc>) -> Result<()> {
        let result = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::Enabled, Expr::value(true))
            .col_expr(user_totp::Column::EnabledAt, Expr::value(Some(now)))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::Enabled.eq(false))
            .exec(db)
            .await?;
        if result.rows_affected == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict("no pending enrolment".into()))
        }
    }

    /// The replay guard: records `step` as used if it is newer than every step accepted before.
    /// Returns false when the step (or a later one) was already accepted.
    pub async fn accept_step(db: &impl ConnectionTrait, user: UserId, step: u64) -> Result<bool> {
        let step =
            i64::try_from(step).map_err(|_| StoreError::Conflict("step too large".into()))?;
        let result = user_totp::Entity::update_many()
            .col_expr(user_totp::Column::LastStep, Expr::value(step))
            .filter(user_totp::Column::UserId.eq(user.as_uuid()))
            .filter(user_totp::Column::LastStep.lt(step))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Removes the second factor and every recovery code (admin reset of a lost factor).
    pub async fn remove(db: &impl ConnectionTrait, user: UserId) -> Result<bool> {
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user.as_uuid()))
            .exec(db)
            .await?;
        let result = user_totp::Entity::delete_by_id(user.as_uuid())
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

pub mod recovery_codes {
    use super::*;

    /// Replaces the user's recovery codes with these hashes.
    pub async fn replace(
        db: &impl ConnectionTrait,
        user: UserId,
        hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user.as_uuid()))
            .exec(db)
            .await?;
        for hash in hashes {
            recovery_code::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user.as_uuid()),
                code_hash: Set(hash.clone()),
                created: Set(now),
                used_at: Set(None),
            }
            .insert(db)
            .await?;
        }
        Ok(())
    }

    /// Uses the code with this hash once. False when unknown or already used.
    pub async fn consume(
        db: &impl ConnectionTrait,
        user: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let result = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(Some(now)))
            .filter(recovery_code::Column::UserId.eq(user.as_uuid()))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// How many unused codes the user has left.
    pub async fn remaining(db: &impl ConnectionTrait, user: UserId) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user.as_uuid()))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(db)
            .await?)
    }
}

pub mod sessions {
    use super::*;

    fn to_domain(m: device_session::Model) -> DeviceSession {
        DeviceSession {
            id: m.id.into(),
            user_id: m.user_id.into(),
            name: m.name,
            user_agent: m.user_agent,
            created: m.created,
            last_used: m.last_used,
            expires_at: m.expires_at,
            revoked_at: m.revoked_at,
            revoked_reason: m.revoked_reason,
        }
    }

    /// Stores a new session with the hash of its first refresh token.
    pub async fn insert(
        db: &impl ConnectionTrait,
        session: &DeviceSession,
        refresh_hash: &str,
    ) -> Result<()> {
        device_session::ActiveModel {
            id: Set(session.id.as_uuid()),
            user_id: Set(session.user_id.as_uuid()),
            name: Set(session.name.clone()),
            user_agent: Set(session.user_agent.clone()),
            created: Set(session.created),
            last_used: Set(session.last_used),
            refresh_hash: Set(refresh_hash.to_owned()),
            expires_at: Set(session.expires_at),
            revoked_at: Set(session.revoked_at),
            revoked_reason: Set(session.revoked_reason.clone()),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    pub async fn get(db: &impl ConnectionTrait, id: DeviceSessionId) -> Result<DeviceSession> {
        device_session::Entity::find_by_id(id.as_uuid())
            .one(db)
            .await?
            .map(to_domain)
            .ok_or_else(|| StoreError::not_found("device session", id))
    }

    /// The stored refresh-token hash of a session.
    pub async fn refresh_hash(
        db: &impl ConnectionTrait,
        id: DeviceSessionId,
    ) -> Result<Option<String>> {
        Ok(device_session::Entity::find_by_id(id.as_uuid())
            .one(db)
            .await?
            .map(|m| m.refresh_hash))
    }

    /// The user's sessions, newest first (revoked ones included, for the record).
    pub async fn list_by_user(
        db: &impl ConnectionTrait,
        user: UserId,
    ) -> Result<Vec<DeviceSession>> {
        Ok(device_session::Entity::find()
            .filter(device_session::Column::UserId.eq(user.as_uuid()))
            .order_by_desc(device_session::Column::Created)
            .all(db)
            .await?
            .into_iter()
            .map(to_domain)
            .collect())
    }

    /// Rotates the refresh token: succeeds only if `old_hash` is still the current one and the
    /// session is live, so a token can be used once even under concurrent requests.
    pub async fn rotate(
        db: &impl ConnectionTrait,
        id: DeviceSessionId,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool> {
        let result = device_session::Entity::update_many()
            .col_expr(device_session::Column::RefreshHash, Expr::value(new_hash))
            .col_expr(device_session::Column::LastUsed, Expr::value(now))
            .col_expr(device_session::Column::ExpiresAt, Expr::value(expires_at))
            .filter(device_session::Column::Id.eq(id.as_uuid()))
            .filter(device_session::Column::RefreshHash.eq(old_hash))
            .filter(device_session::Column::RevokedAt.is_null())
            .filter(device_session::Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Marks the live sessions matching `condition` revoked; returns how many.
    async fn revoke_where(
        db: &impl ConnectionTrait,
        condition: sea_orm::Condition,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let result = device_session::Entity::update_many()
            .col_expr(device_session::Column::RevokedAt, Expr::value(Some(now)))
            .col_expr(
                device_session::Column::RevokedReason,
                Expr::value(Some(reason.to_owned())),
            )
            .filter(condition)
            .filter(device_session::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Revokes one live session. False when it was not live.
    pub async fn revoke(
        db: &impl ConnectionTrait,
        id: DeviceSessionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let condition = sea_orm::Condition::all().add(device_session::Column::Id.eq(id.as_uuid()));
        Ok(revoke_where(db, condition, reason, now).await? == 1)
    }

    /// Revokes every live session of the user; returns how many.
    pub async fn revoke_all(
        db: &impl ConnectionTrait,
        user: UserId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let condition =
            sea_orm::Condition::all().add(device_session::Column::UserId.eq(user.as_uuid()));
        revoke_where(db, condition, reason, now).await
    }
}

pub mod setup_links {
    use super::*;

    /// Stores a new setup link (by the hash of its token); older unused links of the user end.
    pub async fn insert(
        db: &impl ConnectionTrait,
        user: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        setup_link::Entity::update_many()
            .col_expr(setup_link::Column::UsedAt, Expr::value(Some(now)))
            .filter(setup_link::Column::UserId.eq(user.as_uuid()))
            .filter(setup_link::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        setup_link::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.as_uuid()),
            token_hash: Set(token_hash.to_owned()),
            created: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// Uses the link once, if it exists, is unused and has not expired; returns its user.
    pub async fn consume(
        db: &impl ConnectionTrait,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>> {
        let Some(link) = setup_link::Entity::find()
            .filter(setup_link::Column::TokenHash.eq(token_hash))
            .one(db)
            .await?
        else {
            return Ok(None);
        };
        let result = setup_link::Entity::update_many()
            .col_expr(setup_link::Column::UsedAt, Expr::value(Some(now)))
            .filter(setup_link::Column::Id.eq(link.id))
            .filter(setup_link::Column::UsedAt.is_null())
            .filter(setup_link::Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        Ok((result.rows_affected == 1).then_some(link.user_id.into()))
    }
}

pub mod calendar_feeds {
    use super::*;

    /// `last_used` is written at most this often (a calendar app polls every few minutes).
    const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

    fn to_domain(m: calendar_feed::Model) -> CalendarFeed {
        CalendarFeed {
            id: m.id.into(),
            user_id: m.user_id.into(),
            created: m.created,
            last_used: m.last_used,
            revoked: m.revoked,
        }
    }

    /// Stores a new feed (by the hash of its token) and revokes every other active feed of the
    /// user, so one feed is active. Run it in a transaction.
    pub async fn create(
        db: &impl ConnectionTrait,
        user: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<CalendarFeed> {
        let model = calendar_feed::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user.as_uuid()),
            token_hash: Set(token_hash.to_owned()),
            created: Set(now),
            last_used: Set(None),
            revoked: Set(None),
        }
        .insert(db)
        .await?;
        calendar_feed::Entity::update_many()
            .col_expr(calendar_feed::Column::Revoked, Expr::value(Some(now)))
            .filter(calendar_feed::Column::UserId.eq(user.as_uuid()))
            .filter(calendar_feed::Column::Id.ne(model.id))
            .filter(calendar_feed::Column::Revoked.is_null())
            .exec(db)
            .await?;
        Ok(to_domain(model))
    }

    /// The user's active feed, if any.
    pub async fn active(db: &impl ConnectionTrait, user: UserId) -> Result<Option<CalendarFeed>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::UserId.eq(user.as_uuid()))
            .filter(calendar_feed::Column::Revoked.is_null())
            .order_by_desc(calendar_feed::Column::Created)
            .order_by_desc(calendar_feed::Column::Id)
            .one(db)
            .await?
            .map(to_domain))
    }

    /// The active feed whose token has this hash. Unknown and revoked tokens look the same.
    pub async fn find_active(
        db: &impl ConnectionTrait,
        token_hash: &str,
    ) -> Result<Option<CalendarFeed>> {
        Ok(calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TokenHash.eq(token_hash))
            .filter(calendar_feed::Column::Revoked.is_null())
            .one(db)
            .await?
            .map(to_domain))
    }

    /// Revokes the user's active feeds; returns how many.
    pub async fn revoke(
        db: &impl ConnectionTrait,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let result = calendar_feed::Entity::update_many()
            .col_expr(calendar_feed::Column::Revoked, Expr::value(Some(now)))
            .filter(calendar_feed::Column::UserId.eq(user.as_uuid()))
            .filter(calendar_feed::Column::Revoked.is_null())
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Records a fetch, unless one was recorded less than a minute ago. True when written.
    pub async fn touch(
        db: &impl ConnectionTrait,
        feed: plenum_domain::CalendarFeedId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let result = calendar_feed::Entity::update_many()
            .col_expr(calendar_feed::Column::LastUsed, Expr::value(Some(now)))
            .filter(calendar_feed::Column::Id.eq(feed.as_uuid()))
            .filter(
                sea_orm::Condition::any()
                    .add(calendar_feed::Column::LastUsed.is_null())
                    .add(calendar_feed::Column::LastUsed.lte(now - TOUCH_EVERY)),
            )
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

/// A passed password step, waiting for the second factor. The `mfa_token` carries its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub id: Uuid,
    pub user_id: UserId,
    pub enrol: bool,
    pub expires_at: DateTime<Utc>,
}

pub mod pending_logins {
    use super::*;

    /// Rows stay this long past their expiry (the token's leeway is 30 s), then go.
    const KEEP_EXPIRED: chrono::Duration = chrono::Duration::hours(1);

    /// Records a passed password step; returns its id. Clears out long-expired rows.
    pub async fn create(
        db: &impl ConnectionTrait,
        user: UserId,
        enrol: bool,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Uuid> {
        pending_login::Entity::delete_many()
            .filter(pending_login::Column::ExpiresAt.lt(now - KEEP_EXPIRED))
            .exec(db)
            .await?;
        let id = Uuid::now_v7();
        pending_login::ActiveModel {
            id: Set(id),
            user_id: Set(user.as_uuid()),
            enrol: Set(enrol),
            created: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
        .insert(db)
        .await?;
        Ok(id)
    }

    /// The pending login, if it exists, is unused and has not expired at `now`.
    pub async fn get_open(
        db: &impl ConnectionTrait,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>> {
        Ok(pending_login::Entity::find_by_id(id)
            .filter(pending_login::Column::UsedAt.is_null())
            .filter(pending_login::Column::ExpiresAt.gt(now))
            .one(db)
            .await?
            .map(|m| PendingLogin {
                id: m.id,
                user_id: m.user_id.into(),
                enrol: m.enrol,
                expires_at: m.expires_at,
            }))
    }

    /// Uses the pending login once (run it in the transaction that opens the device session).
    /// False when it was used already, has expired or does not exist.
    pub async fn consume(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
        let result = pending_login::Entity::update_many()
            .col_expr(pending_login::Column::UsedAt, Expr::value(Some(now)))
            .filter(pending_login::Column::Id.eq(id))
            .filter(pending_login::Column::UsedAt.is_null())
            .filter(pending_login::Column::ExpiresAt.gt(now))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

pub mod known_devices {
    use super::*;

    /// A known-device cookie is forgotten when its device has not signed in for this long.
    pub const KEEP: chrono::Duration = chrono::Duration::days(400);

    /// The device's id, if `token_hash` is the hash of the cookie issued to this device for
    /// this user and the device signed in within [`KEEP`].
    pub async fn find(
        db: &impl ConnectionTrait,
        id: Uuid,
        user: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>> {
        Ok(known_device::Entity::find_by_id(id)
            .filter(known_device::Column::UserId.eq(user.as_uuid()))
            .filter(known_device::Column::TokenHash.eq(token_hash))
            .filter(known_device::Column::LastSeen.gt(now - KEEP))
            .one(db)
            .await?
            .map(|m| m.id))
    }

    /// Records a device that has just signed in; returns its id.
    pub async fn register(
        db: &impl ConnectionTrait,
        user: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Uuid> {
        let id = Uuid::now_v7();
        known_device::ActiveModel {
            id: Set(id),
            user_id: Set(user.as_uuid()),
            token_hash: Set(token_hash.to_owned()),
            created: Set(now),
            last_seen: Set(now),
        }
        .insert(db)
        .await?;
        Ok(id)
    }

    /// Notes another sign-in of a known device.
    pub async fn touch(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
        known_device::Entity::update_many()
            .col_expr(known_device::Column::LastSeen, Expr::value(now))
            .filter(known_device::Column::Id.eq(id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Forgets every known device of the user (after a reset of the second factor).
    pub async fn forget_all(db: &impl ConnectionTrait, user: UserId) -> Result<u64> {
        let result = known_device::Entity::delete_many()
            .filter(known_device::Column::UserId.eq(user.as_uuid()))
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }
}

/// One bucket of an account's second-factor budget, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardRow {
    pub user_id: UserId,
    /// [`second_factor_guards::NEW_DEVICES`] or a known device's id.
    pub bucket: String,
    pub budget: plenum_domain::SecondFactorBudget,
    /// Failed attempts the user has not been told about yet.
    pub unseen: u32,
}

/// Failed second-factor attempts per account and bucket. An attempt is counted when it starts
/// (a conditional update on the count seen before), so parallel guesses cannot slip past the
/// budget; a passed attempt resets its bucket's count.
pub mod second_factor_guards {
    use super::*;
    use sea_orm::sea_query::OnConflict;

    /// The bucket every device without a known-device cookie shares.
    pub const NEW_DEVICES: &str = "new-devices";

    fn to_row(m: second_factor_guard::Model) -> GuardRow {
        GuardRow {
            user_id: m.user_id.into(),
            bucket: m.bucket,
            budget: plenum_domain::SecondFactorBudget {
                failures: u32::try_from(m.failures).unwrap_or(0),
                last_attempt: m.last_attempt,
            },
            unseen: u32::try_from(m.unseen).unwrap_or(0),
        }
    }

    /// The bucket's budget (none used when there is no row).
    pub async fn get(
        db: &impl ConnectionTrait,
        user: UserId,
        bucket: &str,
    ) -> Result<plenum_domain::SecondFactorBudget> {
        Ok(
            second_factor_guard::Entity::find_by_id((user.as_uuid(), bucket.to_owned()))
                .one(db)
                .await?
                .map(|m| to_row(m).budget)
                .unwrap_or_default(),
        )
    }

    /// Counts an attempt as failed until it passes: `failures` goes from `seen` to `seen + 1`.
    /// False when the count is no longer `seen` (a parallel attempt came first).
    pub async fn claim(
        db: &impl ConnectionTrait,
        user: UserId,
        bucket: &str,
        seen: u32,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        second_factor_guard::Entity::insert(second_factor_guard::ActiveModel {
            user_id: Set(user.as_uuid()),
            bucket: Set(bucket.to_owned()),
            failures: Set(0),
            last_attempt: Set(None),
            unseen: Set(0),
        })
        .on_conflict(
            OnConflict::columns([
                second_factor_guard::Column::UserId,
                second_factor_guard::Column::Bucket,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        let seen = i32::try_from(seen).map_err(|_| StoreError::Conflict("count".into()))?;
        let result = second_factor_guard::Entity::update_many()
            .col_expr(second_factor_guard::Column::Failures, Expr::value(seen + 1))
            .col_expr(
                second_factor_guard::Column::LastAttempt,
                Expr::value(Some(now)),
            )
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .filter(second_factor_guard::Column::Bucket.eq(bucket))
            .filter(second_factor_guard::Column::Failures.eq(seen))
            .exec(db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// A claimed attempt failed: the user will be told at the next sign-in.
    pub async fn failed(db: &impl ConnectionTrait, user: UserId, bucket: &str) -> Result<()> {
        second_factor_guard::Entity::update_many()
            .col_expr(
                second_factor_guard::Column::Unseen,
                sea_orm::sea_query::ExprTrait::add(
                    Expr::col(second_factor_guard::Column::Unseen),
                    1,
                ),
            )
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .filter(second_factor_guard::Column::Bucket.eq(bucket))
            .exec(db)
            .await?;
        Ok(())
    }

    /// A claimed attempt passed: the bucket starts afresh.
    pub async fn passed(db: &impl ConnectionTrait, user: UserId, bucket: &str) -> Result<()> {
        second_factor_guard::Entity::update_many()
            .col_expr(second_factor_guard::Column::Failures, Expr::value(0i32))
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .filter(second_factor_guard::Column::Bucket.eq(bucket))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Ends every lock of the user (a recovery code was used): all counts start afresh.
    pub async fn reset_all(db: &impl ConnectionTrait, user: UserId) -> Result<()> {
        second_factor_guard::Entity::update_many()
            .col_expr(second_factor_guard::Column::Failures, Expr::value(0i32))
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Failed attempts (over all buckets) the user has not been told about, and when the last
    /// one started; marks them told.
    pub async fn take_unseen(
        db: &impl ConnectionTrait,
        user: UserId,
    ) -> Result<(u32, Option<DateTime<Utc>>)> {
        let rows = list_by_user(db, user).await?;
        let unseen: u32 = rows.iter().map(|r| r.unseen).sum();
        let last = rows
            .iter()
            .filter(|r| r.unseen > 0)
            .filter_map(|r| r.budget.last_attempt)
            .max();
        if unseen > 0 {
            second_factor_guard::Entity::update_many()
                .col_expr(second_factor_guard::Column::Unseen, Expr::value(0i32))
                .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
                .exec(db)
                .await?;
        }
        Ok((unseen, last))
    }

    /// The user's buckets.
    pub async fn list_by_user(db: &impl ConnectionTrait, user: UserId) -> Result<Vec<GuardRow>> {
        Ok(second_factor_guard::Entity::find()
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .all(db)
            .await?
            .into_iter()
            .map(to_row)
            .collect())
    }

    /// Every bucket with failures in it, for the admins' account list.
    pub async fn list_failing(db: &impl ConnectionTrait) -> Result<Vec<GuardRow>> {
        Ok(second_factor_guard::Entity::find()
            .filter(second_factor_guard::Column::Failures.gt(0))
            .all(db)
            .await?
            .into_iter()
            .map(to_row)
            .collect())
    }

    /// Clears every bucket of the user (an admin's unlock, or a reset of the second factor).
    pub async fn clear(db: &impl ConnectionTrait, user: UserId) -> Result<u64> {
        let result = second_factor_guard::Entity::delete_many()
            .filter(second_factor_guard::Column::UserId.eq(user.as_uuid()))
            .exec(db)
            .await?;
        Ok(result.rows_affected)
    }
}
