//! Readers' reactions to comments: one per reader and comment, set and taken back idempotently.
//!
//! A reaction is one row of its own (`store::reactions`), so readers reacting at once to one
//! comment never wait on a counter. Pages show the count as it was read: a reaction does not
//! drop the article's cached pages (on a breaking story that would turn every page read into a
//! miss), so a page may show a count up to the cache's one second old; the answer to the
//! reaction itself carries the new count.

use std::collections::HashMap;

use crate::domain::states::CommentStatus;
use crate::entity::comment;
use crate::error::ServiceError;
use crate::service::comments::{load, load_article};
use crate::service::ensure_open;
use crate::state::AppState;
use crate::store::reactions as store;
use crate::views::dto;

/// A reader's reaction after a `PUT` or `DELETE`.
#[derive(Debug)]
pub struct Reaction {
    pub comment: comment::Model,
    pub reader_id: String,
    /// The reader's reaction is recorded now.
    pub reacted: bool,
    /// This request changed something (a repeat changes nothing).
    pub changed: bool,
    /// The comment's count of reactions after the change.
    pub reaction_count: i64,
}

/// Sets (`react`) or takes back the reaction of `reader_id` to a comment while its discussion is
/// open. Only a visible comment takes new reactions (409 otherwise); taking one back works
/// whatever the comment's status. Repeating either changes nothing.
pub async fn set(
    state: &AppState,
    raw_id: &str,
    reader_id: &str,
    react: bool,
) -> Result<Reaction, ServiceError> {
    let comment = load(state, raw_id).await?;
    let now = state.clock().now();
    let article = load_article(state, &comment.article_id).await?;
    ensure_open(state, &article, now).await?;
    if react && comment.status != CommentStatus::Visible {
        return Err(ServiceError::StateConflict {
            message: format!("this comment is {}: it takes no reactions", comment.status),
            current: comment.status.to_string(),
        });
    }
    let txn = state.begin_write().await?;
    let changed = if react {
        store::add(&*txn, comment.id, reader_id, now).await?
    } else {
        store::remove(&*txn, comment.id, reader_id).await?
    };
    txn.commit().await?;
    let reaction_count = reaction_count(state, comment.id).await?;
    if changed {
        // live: reactions changed (the comment's new count is `reaction_count`)
    }
    Ok(Reaction {
        comment,
        reader_id: reader_id.to_string(),
        reacted: react,
        changed,
        reaction_count,
    })
}

/// A comment's current count of reactions (what the live stream tells after a change).
pub async fn reaction_count(state: &AppState, comment_id: i64) -> Result<i64, ServiceError> {
    Ok(store::count(state.db(), comment_id).await?)
}

/// The views of comments, with their counts of reactions read in one statement.
pub async fn views(
    state: &AppState,
    rows: &[comment::Model],
    moderator: bool,
) -> Result<Vec<dto::Comment>, ServiceError> {
    let counts = counts_of(state, rows.iter()).await?;
    Ok(dto::Comment::views(rows, &counts, moderator))
}

/// The counts of reactions of `rows`, in one statement.
pub async fn counts_of<'c>(
    state: &AppState,
    rows: impl Iterator<Item = &'c comment::Model>,
) -> Result<HashMap<i64, i64>, ServiceError> {
    let ids: Vec<i64> = rows.map(|c| c.id).collect();
    Ok(store::counts(state.db(), &ids).await?)
}

/// The view of one comment with its count of reactions.
pub async fn view(
    state: &AppState,
    c: &comment::Model,
    moderator: bool,
) -> Result<dto::Comment, ServiceError> {
    Ok(dto::Comment::view(
        c,
        reaction_count(state, c.id).await?,
        moderator,
    ))
}
