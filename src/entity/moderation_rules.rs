use sea_orm::entity::prelude::*;

/// The current content rules (one row, `id` 1), as JSON, with the version replicas compare.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub version: i64,
    pub rules: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
