//! `person.published`: whether a person appears in the public interfaces (OParl, the portal), an
//! explicit choice per person. Existing persons who sit in a council, committee, fraction or any
//! other organization than the administration stay published (holders of a public office); staff
//! who belong only to the administration, and persons without any membership, are unpublished.
//! Those were served before, so they are recorded as withdrawn (OParl serves their tombstones,
//! and their memberships', from now on) and their rows' `modified` moves to now, so an importer's
//! `modified_since` walk learns that they are gone.

use chrono::{SubsecRound, Utc};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    Modified,
    Published,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    PersonId,
    OrganizationId,
    Modified,
    Deleted,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
    Kind,
}

#[derive(DeriveIden)]
enum Withdrawn {
    Table,
    ObjectId,
    Kind,
    At,
}

/// The persons to unpublish: no live membership in anything but the administration.
fn staff() -> SelectStatement {
    let offices = Query::select()
        .column(Membership::PersonId)
        .from(Membership::Table)
        .and_where(Expr::col(Membership::Deleted).is_null())
        .and_where(
            Expr::col(Membership::OrganizationId).in_subquery(
                Query::select()
                    .column(Organization::Id)
                    .from(Organization::Table)
                    .and_where(Expr::col(Organization::Kind).ne("administration"))
                    .to_owned(),
            ),
        )
        .to_owned();
    Query::select()
        .column(Person::Id)
        .from(Person::Table)
        .and_where(Expr::col(Person::Id).not_in_subquery(offices))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(
                        ColumnDef::new(Person::Published)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        // Microsecond precision, as every stored timestamp.
        let now = Utc::now().trunc_subsecs(6);
        let db = manager.get_connection();
        db.execute(
            &Query::insert()
                .into_table(Withdrawn::Table)
                .columns([Withdrawn::ObjectId, Withdrawn::Kind, Withdrawn::At])
                .select_from(
                    Query::select()
                        .column(Person::Id)
                        .expr(Expr::val("person"))
                        .expr(Expr::val(now))
                        .from(Person::Table)
                        .and_where(Expr::col(Person::Id).in_subquery(staff()))
                        .to_owned(),
                )
                .map_err(|err| DbErr::Migration(err.to_string()))?
                .to_owned(),
        )
        .await?;
        db.execute(
            &Query::update()
                .table(Membership::Table)
                .value(Membership::Modified, now)
                .and_where(Expr::col(Membership::PersonId).in_subquery(staff()))
                .to_owned(),
        )
        .await?;
        // Last, since `staff()` is evaluated again above.
        db.execute(
            &Query::update()
                .table(Person::Table)
                .value(Person::Published, false)
                .value(Person::Modified, now)
                .and_where(Expr::col(Person::Id).in_subquery(staff()))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .drop_column(Person::Published)
                    .to_owned(),
            )
            .await
    }
}
