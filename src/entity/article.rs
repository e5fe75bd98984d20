use sea_orm::entity::prelude::*;

use crate::domain::states::{ArticleLinkPolicy, ClosedReason};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub url: String,
    pub topic: Option<String>,
    pub published_at: DateTimeUtc,
    /// When the discussion closes by the age rule (or the date a moderator reopened it until).
    pub closes_at: DateTimeUtc,
    /// Set when a closure is recorded (by the close-expired job or a moderator).
    pub closed_at: Option<DateTimeUtc>,
    pub closed_reason: Option<ClosedReason>,
    /// Comments the public can see.
    pub comment_count: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Every new comment (and edit) is held for review.
    pub premod: bool,
    /// What a link does to a comment of this article (`inherit`: the content rules' link rule).
    pub link_policy: ArticleLinkPolicy,
    /// What the discussion's readers are told (set by moderators), or null.
    pub settings_message: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
