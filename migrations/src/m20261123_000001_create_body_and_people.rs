//! Bodies, terms, organizations, persons, login accounts, memberships and locations.

use sea_orm_migration::prelude::*;

use crate::common::{fk, modified_index, table_with_meta};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Body {
    Table,
    Name,
    ShortName,
    Website,
    ContactEmail,
}

#[derive(DeriveIden)]
enum LegislativeTerm {
    Table,
    BodyId,
    Name,
    StartDate,
    EndDate,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    BodyId,
    Name,
    ShortName,
    Kind,
    StatutorySeats,
    ParentId,
    StartDate,
    EndDate,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    BodyId,
    FamilyName,
    GivenName,
    Title,
    FormOfAddress,
    Email,
}

#[derive(DeriveIden)]
enum UserAccount {
    Table,
    Username,
    DisplayName,
    PersonId,
    SiteRole,
    PasswordHash,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    PersonId,
    OrganizationId,
    Role,
    VotingRight,
    StartDate,
    EndDate,
}

#[derive(DeriveIden)]
enum Location {
    Table,
    BodyId,
    Description,
    StreetAddress,
    Room,
    PostalCode,
    Locality,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table_with_meta(Body::Table)
                    .col(ColumnDef::new(Body::Name).string().not_null())
                    .col(ColumnDef::new(Body::ShortName).string().null())
                    .col(ColumnDef::new(Body::Website).string().null())
                    .col(ColumnDef::new(Body::ContactEmail).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Body::Table, "idx_body_modified"))
            .await?;

        manager
            .create_table(
                table_with_meta(LegislativeTerm::Table)
                    .col(ColumnDef::new(LegislativeTerm::BodyId).uuid().not_null())
                    .col(ColumnDef::new(LegislativeTerm::Name).string().not_null())
                    .col(ColumnDef::new(LegislativeTerm::StartDate).date().not_null())
                    .col(ColumnDef::new(LegislativeTerm::EndDate).date().not_null())
                    .foreign_key(&mut fk(
                        LegislativeTerm::Table,
                        LegislativeTerm::BodyId,
                        Body::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(
                LegislativeTerm::Table,
                "idx_legislative_term_modified",
            ))
            .await?;

        manager
            .create_table(
                table_with_meta(Organization::Table)
                    .col(ColumnDef::new(Organization::BodyId).uuid().not_null())
                    .col(ColumnDef::new(Organization::Name).string().not_null())
                    .col(ColumnDef::new(Organization::ShortName).string().null())
                    .col(ColumnDef::new(Organization::Kind).string_len(32).not_null())
                    .col(
                        ColumnDef::new(Organization::StatutorySeats)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(Organization::ParentId).uuid().null())
                    .col(ColumnDef::new(Organization::StartDate).date().null())
                    .col(ColumnDef::new(Organization::EndDate).date().null())
                    .foreign_key(&mut fk(
                        Organization::Table,
                        Organization::BodyId,
                        Body::Table,
                    ))
                    .foreign_key(&mut fk(
                        Organization::Table,
                        Organization::ParentId,
                        Organization::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(
                Organization::Table,
                "idx_organization_modified",
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organization_body")
                    .table(Organization::Table)
                    .col(Organization::BodyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table_with_meta(Person::Table)
                    .col(ColumnDef::new(Person::BodyId).uuid().not_null())
                    .col(ColumnDef::new(Person::FamilyName).string().not_null())
                    .col(ColumnDef::new(Person::GivenName).string().not_null())
                    .col(ColumnDef::new(Person::Title).string().null())
                    .col(ColumnDef::new(Person::FormOfAddress).string().null())
                    .col(ColumnDef::new(Person::Email).string().null())
                    .foreign_key(&mut fk(Person::Table, Person::BodyId, Body::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Person::Table, "idx_person_modified"))
            .await?;

        manager
            .create_table(
                table_with_meta(UserAccount::Table)
                    .col(
                        ColumnDef::new(UserAccount::Username)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserAccount::DisplayName).string().not_null())
                    .col(ColumnDef::new(UserAccount::PersonId).uuid().null())
                    .col(
                        ColumnDef::new(UserAccount::SiteRole)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserAccount::PasswordHash).text().null())
                    .foreign_key(&mut fk(
                        UserAccount::Table,
                        UserAccount::PersonId,
                        Person::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_account_username")
                    .table(UserAccount::Table)
                    .col(UserAccount::Username)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_account_person")
                    .table(UserAccount::Table)
                    .col(UserAccount::PersonId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table_with_meta(Membership::Table)
                    .col(ColumnDef::new(Membership::PersonId).uuid().not_null())
                    .col(ColumnDef::new(Membership::OrganizationId).uuid().not_null())
                    .col(ColumnDef::new(Membership::Role).string_len(32).not_null())
                    .col(ColumnDef::new(Membership::VotingRight).boolean().not_null())
                    .col(ColumnDef::new(Membership::StartDate).date().null())
                    .col(ColumnDef::new(Membership::EndDate).date().null())
                    .foreign_key(&mut fk(
                        Membership::Table,
                        Membership::PersonId,
                        Person::Table,
                    ))
                    .foreign_key(&mut fk(
                        Membership::Table,
                        Membership::OrganizationId,
                        Organization::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Membership::Table, "idx_membership_modified"))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_organization")
                    .table(Membership::Table)
                    .col(Membership::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_person")
                    .table(Membership::Table)
                    .col(Membership::PersonId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table_with_meta(Location::Table)
                    .col(ColumnDef::new(Location::BodyId).uuid().not_null())
                    .col(ColumnDef::new(Location::Description).string().not_null())
                    .col(ColumnDef::new(Location::StreetAddress).string().null())
                    .col(ColumnDef::new(Location::Room).string().null())
                    .col(ColumnDef::new(Location::PostalCode).string().null())
                    .col(ColumnDef::new(Location::Locality).string().null())
                    .foreign_key(&mut fk(Location::Table, Location::BodyId, Body::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(modified_index(Location::Table, "idx_location_modified"))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Location::Table.into_iden(),
            Membership::Table.into_iden(),
            UserAccount::Table.into_iden(),
            Person::Table.into_iden(),
            Organization::Table.into_iden(),
            LegislativeTerm::Table.into_iden(),
            Body::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
