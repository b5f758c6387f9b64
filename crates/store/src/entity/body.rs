use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "body")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created: DateTimeUtc,
    pub modified: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
    pub name: String,
    pub short_name: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub ags: Option<String>,
    pub rgs: Option<String>,
    pub classification: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
