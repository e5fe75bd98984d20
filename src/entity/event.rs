use sea_orm::entity::prelude::*;

use crate::domain::states::{EventStatus, EventType};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The id the website sees (`webhook-id`), unique per event.
    pub event_id: String,
    pub event_type: EventType,
    /// Events of one stream (`comment:42`, `article:1912345`, `author:u-1`) go out in order.
    pub stream: String,
    /// The JSON body, as sent.
    pub payload: String,
    pub status: EventStatus,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    /// The claim of the sender holding the row, and until when it holds it.
    pub lease: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
