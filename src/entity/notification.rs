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
    /// The claim of the sender holding the lease: only it may mark the row.
    pub lease_token: Option<String>,
    /// Who holds the lease (`host/address` of a serving process, or a random id).
    pub lease_owner: Option<String>,
    /// What the mail is rendered from at send time (JSON of `notifications::Snapshot`); cleared
    /// by the purge job after `RETENTION_DAYS`. Rows queued before it existed keep `body_*`.
    pub snapshot: Option<String>,
    /// The comment's review round when the notification was queued: its links act only in it.
    pub review_round: i64,
}

impl ActiveModelBehavior for ActiveModel {}
