use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "forum_post")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub thread_id: Uuid,
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub reply_to: Option<Uuid>,
    pub body: String,
    /// Mentioned person ids, comma-separated.
    pub mentions: String,
    pub version: i32,
    pub created: DateTimeUtc,
    pub modified: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
