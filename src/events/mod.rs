//! Events to the website (webhooks): what changed, written to the `events` outbox in the
//! transaction of the change, and sent by the `deliver-events` job under the Standard Webhooks
//! convention (`webhook-id`, `webhook-timestamp`, `webhook-signature`).

pub mod sender;
pub mod signature;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::{Value, json};

use crate::domain::states::{ClosedReason, CommentStatus, DiscussionStatus, EventType};
use crate::store::events::{self, NewEvent};

/// The stream an event belongs to: a stream's events are sent in the order they happened.
pub enum Stream<'a> {
    Comment(i64),
    Article(&'a str),
    Author(&'a str),
}

impl Stream<'_> {
    fn key(&self) -> String {
        match self {
            Stream::Comment(id) => format!("comment:{id}"),
            Stream::Article(id) => format!("article:{id}"),
            Stream::Author(id) => format!("author:{id}"),
        }
    }
}

/// A new event id: `evt_` and 22 random URL-safe characters.
fn new_event_id() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("evt_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The body the website receives: `{"type", "id", "occurred_at", "data"}`.
pub fn body(event_type: EventType, id: &str, occurred_at: DateTime<Utc>, data: &Value) -> String {
    json!({
        "type": event_type,
        "id": id,
        "occurred_at": occurred_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        "data": data,
    })
    .to_string()
}

fn new_event(
    event_type: EventType,
    stream: Stream<'_>,
    data: &Value,
    now: DateTime<Utc>,
) -> NewEvent {
    let event_id = new_event_id();
    let payload = body(event_type, &event_id, now, data);
    NewEvent {
        event_id,
        event_type,
        stream: stream.key(),
        payload,
    }
}

/// Where events go: nowhere without `WEBHOOK_URL`, else into the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Events {
    enabled: bool,
}

impl Events {
    pub fn new(enabled: bool) -> Events {
        Events { enabled }
    }

    pub fn enabled(self) -> bool {
        self.enabled
    }

    /// Records an event in the caller's transaction (nothing without `WEBHOOK_URL`).
    pub async fn record(
        self,
        db: &impl ConnectionTrait,
        event_type: EventType,
        stream: Stream<'_>,
        data: Value,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        if !self.enabled {
            return Ok(());
        }
        events::enqueue(db, new_event(event_type, stream, &data, now), now).await
    }
}

impl Events {
    /// `flag.decided` for each flag `decision` resolved on `comment_id`, in the order of the
    /// flags, in one statement however many they are (the database writes each event's id and
    /// body; a comment with 40,000 flags is decided in well under a second).
    pub async fn flags_decided(
        self,
        db: &impl ConnectionTrait,
        comment_id: i64,
        decision: &crate::entity::decision::Model,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        if !self.enabled {
            return Ok(());
        }
        let decided = json!({
            "action": decision.action,
            "ground": decision.ground,
            "category": decision.category,
            "decided_at": crate::views::dto::format_ts(decision.decided_at),
        });
        events::enqueue_flags_decided(
            db,
            events::FlagsDecided {
                comment_id,
                decision_id: decision.id,
                stream: Stream::Comment(comment_id).key(),
                decision: decided.to_string(),
                occurred_at: now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            },
            now,
        )
        .await
    }

    /// `comment.hidden` for each of `comments` (id and article), in one statement per 500.
    pub async fn comments_hidden(
        self,
        db: &impl ConnectionTrait,
        comments: &[(i64, &str)],
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        if !self.enabled {
            return Ok(());
        }
        for chunk in comments.chunks(500) {
            let new = chunk
                .iter()
                .map(|(id, article_id)| {
                    let data = json!({"comment_id": id.to_string(), "article_id": article_id,
                                      "status": CommentStatus::Hidden});
                    new_event(EventType::CommentHidden, Stream::Comment(*id), &data, now)
                })
                .collect();
            events::enqueue_many(db, new, now).await?;
        }
        Ok(())
    }

    /// `discussion.closed` for each of `articles`, in one statement per 500.
    pub async fn discussions_closed(
        self,
        db: &impl ConnectionTrait,
        articles: &[String],
        reason: ClosedReason,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        if !self.enabled {
            return Ok(());
        }
        for chunk in articles.chunks(500) {
            let new = chunk
                .iter()
                .map(|id| {
                    let data = json!({"article_id": id, "status": DiscussionStatus::Closed, "reason": reason});
                    new_event(EventType::DiscussionClosed, Stream::Article(id), &data, now)
                })
                .collect();
            events::enqueue_many(db, new, now).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_unique_and_bodies_name_type_id_time_and_data() {
        let a = new_event_id();
        assert!(a.starts_with("evt_") && a.len() == 26, "{a}");
        assert_ne!(a, new_event_id());
        let at = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body: Value = serde_json::from_str(&body(
            EventType::CommentHidden,
            "evt_1",
            at,
            &json!({"comment_id": "7"}),
        ))
        .unwrap();
        assert_eq!(
            body,
            json!({"type": "comment.hidden", "id": "evt_1", "occurred_at": "2026-11-28T10:00:00Z",
                   "data": {"comment_id": "7"}})
        );
    }
}
