//! Fraction collaboration: notes on papers, agenda items and files (with their edit history),
//! and per-organization forums (threads, posts with edit history, read markers).
//!
//! Who may see a shared note or a forum is decided at read time from current memberships, so
//! nothing here copies membership data.

use sea_orm_migration::prelude::*;

use crate::common::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Note {
    Table,
    Id,
    AuthorId,
    PaperId,
    AgendaItemId,
    FileId,
    Page,
    Quote,
    SharedWith,
    SharedAt,
    Body,
    Version,
    Created,
    Modified,
    Deleted,
}

#[derive(DeriveIden)]
enum NoteRevision {
    Table,
    Id,
    NoteId,
    Version,
    Body,
    SharedWith,
    Edited,
}

#[derive(DeriveIden)]
enum ForumThread {
    Table,
    Id,
    OrganizationId,
    AuthorId,
    Title,
    PaperId,
    MeetingId,
    AgendaItemId,
    Pinned,
    Locked,
    Created,
    LastPost,
    Deleted,
}

#[derive(DeriveIden)]
enum ForumPost {
    Table,
    Id,
    ThreadId,
    OrganizationId,
    AuthorId,
    ReplyTo,
    Body,
    Mentions,
    Version,
    Created,
    Modified,
    Deleted,
}

#[derive(DeriveIden)]
enum ForumPostRevision {
    Table,
    Id,
    PostId,
    Version,
    Body,
    Edited,
}

#[derive(DeriveIden)]
enum ForumRead {
    Table,
    ThreadId,
    PersonId,
    LastRead,
}

fn uuid(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().not_null().to_owned()
}

fn uuid_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).uuid().null().to_owned()
}

fn at(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn at_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Note::Table)
                    .col(uuid(Note::Id).primary_key())
                    .col(uuid(Note::AuthorId))
                    .col(uuid_null(Note::PaperId))
                    .col(uuid_null(Note::AgendaItemId))
                    .col(uuid_null(Note::FileId))
                    .col(ColumnDef::new(Note::Page).integer().null())
                    .col(ColumnDef::new(Note::Quote).text().null())
                    .col(uuid_null(Note::SharedWith))
                    .col(at_null(Note::SharedAt))
                    .col(ColumnDef::new(Note::Body).text().not_null())
                    .col(ColumnDef::new(Note::Version).integer().not_null())
                    .col(at(Note::Created))
                    .col(at(Note::Modified))
                    .col(at_null(Note::Deleted))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_note_author", Note::AuthorId),
            ("idx_note_paper", Note::PaperId),
            ("idx_note_agenda_item", Note::AgendaItemId),
            ("idx_note_file", Note::FileId),
            ("idx_note_shared_with", Note::SharedWith),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Note::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(NoteRevision::Table)
                    .col(uuid(NoteRevision::Id).primary_key())
                    .col(uuid(NoteRevision::NoteId))
                    .col(ColumnDef::new(NoteRevision::Version).integer().not_null())
                    .col(ColumnDef::new(NoteRevision::Body).text().not_null())
                    .col(uuid_null(NoteRevision::SharedWith))
                    .col(at(NoteRevision::Edited))
                    .foreign_key(&mut fk(
                        NoteRevision::Table,
                        NoteRevision::NoteId,
                        Note::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_note_revision_note")
                    .table(NoteRevision::Table)
                    .col(NoteRevision::NoteId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ForumThread::Table)
                    .col(uuid(ForumThread::Id).primary_key())
                    .col(uuid(ForumThread::OrganizationId))
                    .col(uuid(ForumThread::AuthorId))
                    .col(ColumnDef::new(ForumThread::Title).text().not_null())
                    .col(uuid_null(ForumThread::PaperId))
                    .col(uuid_null(ForumThread::MeetingId))
                    .col(uuid_null(ForumThread::AgendaItemId))
                    .col(ColumnDef::new(ForumThread::Pinned).boolean().not_null())
                    .col(ColumnDef::new(ForumThread::Locked).boolean().not_null())
                    .col(at(ForumThread::Created))
                    .col(at(ForumThread::LastPost))
                    .col(at_null(ForumThread::Deleted))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_forum_thread_organization")
                    .table(ForumThread::Table)
                    .col(ForumThread::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ForumPost::Table)
                    .col(uuid(ForumPost::Id).primary_key())
                    .col(uuid(ForumPost::ThreadId))
                    .col(uuid(ForumPost::OrganizationId))
                    .col(uuid(ForumPost::AuthorId))
                    .col(uuid_null(ForumPost::ReplyTo))
                    .col(ColumnDef::new(ForumPost::Body).text().not_null())
                    .col(ColumnDef::new(ForumPost::Mentions).text().not_null())
                    .col(ColumnDef::new(ForumPost::Version).integer().not_null())
                    .col(at(ForumPost::Created))
                    .col(at(ForumPost::Modified))
                    .col(at_null(ForumPost::Deleted))
                    .foreign_key(&mut fk(
                        ForumPost::Table,
                        ForumPost::ThreadId,
                        ForumThread::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_forum_post_thread", ForumPost::ThreadId),
            ("idx_forum_post_organization", ForumPost::OrganizationId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ForumPost::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ForumPostRevision::Table)
                    .col(uuid(ForumPostRevision::Id).primary_key())
                    .col(uuid(ForumPostRevision::PostId))
                    .col(
                        ColumnDef::new(ForumPostRevision::Version)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ForumPostRevision::Body).text().not_null())
                    .col(at(ForumPostRevision::Edited))
                    .foreign_key(&mut fk(
                        ForumPostRevision::Table,
                        ForumPostRevision::PostId,
                        ForumPost::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ForumRead::Table)
                    .col(uuid(ForumRead::ThreadId))
                    .col(uuid(ForumRead::PersonId))
                    .col(at(ForumRead::LastRead))
                    .primary_key(
                        Index::create()
                            .col(ForumRead::ThreadId)
                            .col(ForumRead::PersonId),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ForumRead::Table.into_iden(),
            ForumPostRevision::Table.into_iden(),
            ForumPost::Table.into_iden(),
            ForumThread::Table.into_iden(),
            NoteRevision::Table.into_iden(),
            Note::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
