use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "file_text")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub file_id: Uuid,
    pub status: String,
    pub page_count: i32,
    pub text_pages: i32,
    #[sea_orm(column_type = "Text")]
    pub pages_without_text: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub extracted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
