//! Guards of the login's second step: `pending_login` (one row per passed password step; the
//! `mfa_token` carries its id and is used once), `known_device` (devices that signed in before,
//! by the hash of their `plenum_device` cookie) and `second_factor_guard` (failed second-factor
//! attempts per account and device bucket: backoff, lock, and the notice to the user).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserAccount {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PendingLogin {
    Table,
    Id,
    UserId,
    /// The user has no second factor yet and must enrol.
    Enrol,
    Created,
    ExpiresAt,
    /// Set, in the transaction that opens the device session, when the second step passed.
    UsedAt,
}

#[derive(DeriveIden)]
enum KnownDevice {
    Table,
    Id,
    UserId,
    /// SHA-256 of the cookie's secret.
    TokenHash,
    Created,
    LastSeen,
}

#[derive(DeriveIden)]
enum SecondFactorGuard {
    Table,
    UserId,
    /// `new-devices` (every device without a known-device cookie) or a known device's id.
    Bucket,
    /// Attempts in a row that did not pass (an attempt counts when it starts).
    Failures,
    LastAttempt,
    /// Failed attempts the user has not been told about yet (shown at the next sign-in).
    Unseen,
}

fn user_fk(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(UserAccount::Table, UserAccount::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PendingLogin::Table)
                    .col(
                        ColumnDef::new(PendingLogin::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PendingLogin::UserId).uuid().not_null())
                    .col(ColumnDef::new(PendingLogin::Enrol).boolean().not_null())
                    .col(
                        ColumnDef::new(PendingLogin::Created)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PendingLogin::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PendingLogin::UsedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(&mut user_fk(PendingLogin::Table, PendingLogin::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_pending_login_expires")
                    .table(PendingLogin::Table)
                    .col(PendingLogin::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(KnownDevice::Table)
                    .col(
                        ColumnDef::new(KnownDevice::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(KnownDevice::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(KnownDevice::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(KnownDevice::Created)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(KnownDevice::LastSeen)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut user_fk(KnownDevice::Table, KnownDevice::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_known_device_user")
                    .table(KnownDevice::Table)
                    .col(KnownDevice::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SecondFactorGuard::Table)
                    .col(ColumnDef::new(SecondFactorGuard::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(SecondFactorGuard::Bucket)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SecondFactorGuard::Failures)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(SecondFactorGuard::LastAttempt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(SecondFactorGuard::Unseen)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(SecondFactorGuard::UserId)
                            .col(SecondFactorGuard::Bucket),
                    )
                    .foreign_key(&mut user_fk(
                        SecondFactorGuard::Table,
                        SecondFactorGuard::UserId,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SecondFactorGuard::Table.into_iden(),
            KnownDevice::Table.into_iden(),
            PendingLogin::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
