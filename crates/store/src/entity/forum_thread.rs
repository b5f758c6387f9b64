use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "forum_thread")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub author_id: Uuid,
    pub title: String,
    pub paper_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub pinned: bool,
    pub locked: bool,
    pub created: DateTimeUtc,
    pub last_post: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
