use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "live_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: Uuid,
    pub seq: i64,
    pub state: String,
    /// The roster's members, kept apart from `state` (NULL: inside `state`).
    pub members: Option<String>,
    /// The attendance, kept apart from `state` (NULL: inside `state`).
    pub attendance: Option<String>,
    pub updated: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
