use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "minutes_version")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub part: String,
    pub version: i32,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub content_sha256: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub correction_reason: Option<String>,
    pub supersedes: Option<Uuid>,
    pub superseded_at: Option<DateTimeUtc>,
    pub signed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Blob", nullable)]
    pub pdf: Option<Vec<u8>>,
    pub published_at: Option<DateTimeUtc>,
    pub published_by: Option<Uuid>,
    pub approved_at: Option<DateTimeUtc>,
    pub approved_item: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
