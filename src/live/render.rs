//! `live_events` rows as the frames readers are sent: each comment's view as the thread's
//! readers see it now, read for all the rows at once.

use std::collections::HashMap;
use std::fmt::Write as _;

use actix_web::web::Bytes;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde_json::json;

use super::Frame;
use crate::domain::states::CommentStatus;
use crate::entity::comment;
use crate::store::live::LiveRow;
use crate::views::dto::{CommentRef, fields_of};

/// How many comments' last sent reaction counts are kept (past it they are forgotten; at
/// worst a count is sent once more).
const COUNTS_KEPT: usize = 100_000;

/// Sent instead of what a reader missed when it is no longer kept: reload the thread.
pub fn reset_frame() -> Bytes {
    Bytes::from_static(b"event: reset\ndata: {}\n\n")
}

/// The frames of `rows`, in their order. A `created` or `edited` row of a comment that readers
/// may no longer see (held or hidden since) is left out: its `removed` row follows, and the
/// stream never carries what the thread does not show. A `removed` comment is its placeholder.
/// A `reactions` row whose count is the one `counts_sent` holds for its comment is left out
/// (its rows came in two reads, the first already sent the newest count); the counts of those
/// sent are kept there.
pub async fn frames(
    db: &impl ConnectionTrait,
    rows: &[LiveRow],
    counts_sent: &mut HashMap<i64, i64>,
) -> Result<Vec<Frame>, DbErr> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.comment_id).collect();
    let comments: HashMap<i64, comment::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            for c in comment::Entity::find()
                .filter(comment::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                found.insert(c.id, c);
            }
        }
        found
    };
    let counts = crate::store::reactions::counts(db, &ids).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let comment = row.comment_id.and_then(|id| comments.get(&id));
            let count = row
                .comment_id
                .and_then(|id| counts.get(&id).copied())
                .unwrap_or(0);
            let frame = frame(row, comment, count)?;
            if let (Some(id), "reactions") = (row.comment_id, row.kind.as_str()) {
                if counts_sent.get(&id) == Some(&count) {
                    return None;
                }
                if counts_sent.len() >= COUNTS_KEPT {
                    counts_sent.clear();
                }
                counts_sent.insert(id, count);
            }
            Some(frame)
        })
        .collect())
}

/// Of several `reactions` rows of one comment, only the last (it carries the newest count).
pub fn newest_reactions(rows: Vec<LiveRow>) -> Vec<LiveRow> {
    let mut last = HashMap::new();
    for row in rows.iter().filter(|r| r.kind == "reactions") {
        last.insert(row.comment_id, row.id);
    }
    rows.into_iter()
        .filter(|r| r.kind != "reactions" || last.get(&r.comment_id) == Some(&r.id))
        .collect()
}

fn frame(row: &LiveRow, comment: Option<&comment::Model>, reactions: i64) -> Option<Frame> {
    let (event, data) = match (row.kind.as_str(), comment) {
        ("created" | "edited", Some(c)) if c.status == CommentStatus::Visible => (
            if row.kind == "created" {
                "comment.created"
            } else {
                "comment.edited"
            },
            serde_json::to_string(&CommentRef::of(fields_of(c, reactions), false)).ok()?,
        ),
        ("reactions", Some(c)) if c.status == CommentStatus::Visible => (
            "reactions",
            json!({"comment_id": c.id.to_string(), "reaction_count": reactions}).to_string(),
        ),
        ("removed", Some(c)) => {
            // The placeholder, whatever the comment is now (it may be visible again: its
            // `created` row follows).
            let mut fields = fields_of(c, reactions);
            fields.status = CommentStatus::Hidden;
            (
                "comment.removed",
                serde_json::to_string(&CommentRef::of(fields, false)).ok()?,
            )
        }
        ("closed", _) => (
            "discussion.closed",
            json!({"article_id": row.article_id, "status": "closed"}).to_string(),
        ),
        ("reopened", _) => (
            "discussion.reopened",
            json!({"article_id": row.article_id, "status": "open"}).to_string(),
        ),
        _ => return None,
    };
    let mut text = String::with_capacity(data.len() + 48);
    let _ = write!(text, "id: {}\nevent: {event}\ndata: {data}\n\n", row.id);
    Some(Frame {
        id: row.id,
        bytes: Bytes::from(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discussion_rows_are_frames_with_their_id_and_unknown_kinds_none() {
        let row = LiveRow {
            id: 7,
            article_id: "a-1".into(),
            kind: "closed".into(),
            comment_id: None,
        };
        let f = frame(&row, None, 0).unwrap();
        assert_eq!(f.id, 7);
        assert_eq!(
            std::str::from_utf8(&f.bytes).unwrap(),
            "id: 7\nevent: discussion.closed\ndata: {\"article_id\":\"a-1\",\"status\":\"closed\"}\n\n"
        );
        let unknown = LiveRow {
            kind: "created".into(),
            comment_id: Some(1),
            ..row
        };
        assert!(
            frame(&unknown, None, 0).is_none(),
            "a comment that is gone is not sent"
        );
    }
}
