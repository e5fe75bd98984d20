//! Authors: what moderation knows about an author id, and the status moderators give them.

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::domain::states::{AuthorStatus, EventType, Via};
use crate::entity::{article, author, comment};
use crate::error::ApiError;
use crate::events::Stream;
use crate::state::AppState;
use crate::store::{articles, audit, authors};

/// Loads an author record or answers 404.
pub async fn load(state: &AppState, id: &str) -> Result<author::Model, ApiError> {
    authors::find(state.db(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no author `{id}`")))
}

/// A status a moderator gives an author, parsed.
pub struct StatusChange {
    pub status: AuthorStatus,
    /// Required for `suspended`; ignored otherwise.
    pub until: Option<DateTime<Utc>>,
    /// Required for `suspended` and `banned`.
    pub reason: Option<String>,
}

/// Gives an author a status (an author id not seen yet gets a record), audit-logged with the
/// moderator's name, and tells the website (`author.status_changed`).
pub async fn set_status(
    state: &AppState,
    moderator: &Caller,
    id: &str,
    change: StatusChange,
) -> Result<author::Model, ApiError> {
    let now = state.clock().now();
    let until = match change.status {
        AuthorStatus::Suspended => match change.until {
            Some(until) if until > now => Some(until),
            Some(_) => return Err(ApiError::field("until", "must be in the future")),
            None => return Err(ApiError::field("until", "is required for `suspended`")),
        },
        _ => None,
    };
    let reason = change.reason.filter(|r| !r.is_empty());
    if matches!(
        change.status,
        AuthorStatus::Suspended | AuthorStatus::Banned
    ) && reason.is_none()
    {
        return Err(ApiError::field(
            "reason",
            format!("is required for `{}`", change.status),
        ));
    }
    let txn = state.begin_write().await?;
    authors::set_status(&*txn, id, change.status, until, reason.as_deref(), now).await?;
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: change.status.into(),
            comment_id: None,
            article_id: None,
            note: reason.as_deref(),
            via: Via::Api,
            author_id: Some(id),
            details: None,
        },
        now,
    )
    .await?;
    let data = serde_json::json!({
        "author_id": id,
        "status": change.status,
        "until": until.map(crate::views::dto::format_ts),
    });
    state
        .events()
        .record(
            &*txn,
            EventType::AuthorStatusChanged,
            Stream::Author(id),
            data,
            now,
        )
        .await?;
    let author = authors::find(&*txn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no author `{id}`")))?;
    txn.commit().await?;
    state.jobs().events.wake();
    tracing::info!(author = id, status = %change.status, moderator = %moderator.name, "author status changed");
    Ok(author)
}

/// One page of an author's comments, newest first, any status, each with its article.
pub async fn comments(
    state: &AppState,
    id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<(comment::Model, article::Model)>, ApiError> {
    load(state, id).await?;
    let page = authors::comments(state.db(), id, before, limit).await?;
    let ids: Vec<String> = page.iter().map(|c| c.article_id.clone()).collect();
    let found = articles::find_many(state.db(), &ids).await?;
    Ok(page
        .into_iter()
        .filter_map(|c| {
            let article = found.iter().find(|a| a.id == c.article_id)?.clone();
            Some((c, article))
        })
        .collect())
}
