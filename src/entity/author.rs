use sea_orm::entity::prelude::*;

use crate::domain::states::AuthorStatus;

/// What moderation keeps about an author id: the latest name, the status moderators gave them,
/// and counts kept up to date by the write transactions.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub status: AuthorStatus,
    /// When a suspension ends.
    pub until: Option<DateTimeUtc>,
    pub reason: Option<String>,
    pub first_seen_at: DateTimeUtc,
    pub comments: i64,
    pub visible: i64,
    pub approved: i64,
    pub hidden: i64,
    pub deleted_by_moderator: i64,
    pub deleted_by_author: i64,
    pub flags_received: i64,
    pub held: i64,
    /// Comments that are visible or were approved (`new_author_premod` counts these).
    pub approved_or_visible: i64,
}

impl ActiveModelBehavior for ActiveModel {}
