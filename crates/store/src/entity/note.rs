use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "note")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    pub paper_id: Option<Uuid>,
    pub agenda_item_id: Option<Uuid>,
    pub file_id: Option<Uuid>,
    pub page: Option<i32>,
    pub quote: Option<String>,
    pub shared_with: Option<Uuid>,
    pub shared_at: Option<DateTimeUtc>,
    pub body: String,
    pub version: i32,
    pub created: DateTimeUtc,
    pub modified: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
    pub anchor_kind: Option<String>,
    pub anchor: Option<String>,
    pub content_sha256: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
