use sea_orm::entity::prelude::*;

use crate::domain::states::{NotificationKind, NotificationStatus};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub comment_id: i64,
    pub kind: NotificationKind,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    /// A sender's claim: until then no other sender takes the row.
    pub locked_until: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
