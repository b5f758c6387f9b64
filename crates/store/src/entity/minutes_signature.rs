use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "minutes_signature")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub version_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub role: String,
    pub user_id: Uuid,
    pub person_id: Option<Uuid>,
    pub name: String,
    pub signed_at: DateTimeUtc,
    pub chain_seq: i64,
    pub chain_head: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
