use sea_orm::entity::prelude::*;

use crate::domain::states::{LogAction, Via};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub moderator: String,
    pub action: LogAction,
    pub comment_id: Option<i64>,
    pub article_id: Option<String>,
    pub note: Option<String>,
    pub via: Via,
    /// The author an entry is about (status changes).
    pub author_id: Option<String>,
    /// What a rules change changed (JSON).
    pub details: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
