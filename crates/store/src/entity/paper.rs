use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "paper")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created: DateTimeUtc,
    pub modified: DateTimeUtc,
    pub deleted: Option<DateTimeUtc>,
    pub body_id: Uuid,
    pub reference: String,
    pub paper_type: String,
    pub title: String,
    pub date: Date,
    pub originator_id: Option<Uuid>,
    pub text: String,
    pub public: bool,
    pub main_file_id: Option<Uuid>,
    pub under_direction_of_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
