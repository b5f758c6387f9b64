use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "body_setting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub body_id: Uuid,
    pub invitation_notice_days: Option<i32>,
    pub modified: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
