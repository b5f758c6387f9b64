use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created: DateTimeUtc,
    pub modified: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
    pub body_id: Uuid,
    pub family_name: String,
    pub given_name: String,
    pub title: Option<String>,
    pub form_of_address: Option<String>,
    pub email: Option<String>,
    pub published: bool,
    pub status: String,
    pub affix: Option<String>,
    pub gender: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
