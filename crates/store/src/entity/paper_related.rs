use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "paper_related")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub paper_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub related_paper_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
