//! Authors: what moderation knows about an author id, and the status moderators give them.

use chrono::{DateTime, Utc};

use crate::auth::Caller;
use crate::domain::statement::Statement;
use crate::domain::states::{AuthorStatus, EventType, Via};
use crate::entity::{article, author, comment};
use crate::error::ServiceError;
use crate::events::Stream;
use crate::state::AppState;
use crate::store::{articles, audit, authors, hide_existing};

/// Loads an author record or answers 404.
pub async fn load(state: &AppState, id: &str) -> Result<author::Model, ServiceError> {
    authors::find(state.db(), id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no author `{id}`")))
}

/// A status a moderator gives an author, parsed.
pub struct StatusChange {
    pub status: AuthorStatus,
    /// Required for `suspended`; ignored otherwise.
    pub until: Option<DateTime<Utc>>,
    /// Required for `suspended` and `banned`.
    pub reason: Option<String>,
    /// With `banned` or `suspended`: hide every visible comment of the author in the same step,
    /// each as a moderator's `hide` with this statement of reasons.
    pub hide_existing: Option<Statement>,
}

/// Gives an author a status (an author id not seen yet gets a record), audit-logged with the
/// moderator's name and the way they acted (`via`), and tells the website (`author.status_changed`). With `hide_existing` (a ban
/// or a suspension only) every visible comment of the author is hidden in the same transaction,
/// set-based (see `store::hide_existing`): each gets a `hide` decision with the one statement of
/// reasons, its flags resolved, its `comment.hidden` (and `flag.decided`) events and its audit-log
/// entry; the status entry's details say how many; the articles' cached pages are dropped.
pub async fn set_status(
    state: &AppState,
    moderator: &Caller,
    via: Via,
    id: &str,
    change: StatusChange,
) -> Result<author::Model, ServiceError> {
    let now = state.clock().now();
    let until = match change.status {
        AuthorStatus::Suspended => match change.until {
            Some(until) if until > now => Some(until),
            Some(_) => return Err(ServiceError::field("until", "must be in the future")),
            None => return Err(ServiceError::field("until", "is required for `suspended`")),
        },
        _ => None,
    };
    if change.hide_existing.is_some()
        && !matches!(
            change.status,
            AuthorStatus::Suspended | AuthorStatus::Banned
        )
    {
        return Err(ServiceError::field(
            "hide_existing",
            "is only for `banned` and `suspended`",
        ));
    }
    let reason = change.reason.filter(|r| !r.is_empty());
    if matches!(
        change.status,
        AuthorStatus::Suspended | AuthorStatus::Banned
    ) && reason.is_none()
    {
        return Err(ServiceError::field(
            "reason",
            format!("is required for `{}`", change.status),
        ));
    }
    let txn = state.begin_write().await?;
    authors::set_status(&*txn, id, change.status, until, reason.as_deref(), now).await?;
    let hidden = match &change.hide_existing {
        Some(statement) => {
            let by = moderator.name.as_str();
            let note = reason.as_deref();
            hide_existing::hide_visible_of(&*txn, id, statement, (by, via), note, now).await?
        }
        None => Vec::new(),
    };
    let details = change
        .hide_existing
        .is_some()
        .then(|| serde_json::json!({"hidden": hidden.len()}).to_string());
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: change.status.into(),
            comment_id: None,
            article_id: None,
            note: reason.as_deref(),
            via,
            author_id: Some(id),
            details,
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
    record_hidden(state, &*txn, &hidden, now).await?;
    let author = authors::find(&*txn, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no author `{id}`")))?;
    txn.commit().await?;
    state.jobs().events.wake();
    let mut articles: Vec<&str> = hidden.iter().map(|h| h.article_id.as_str()).collect();
    articles.sort_unstable();
    articles.dedup();
    for article in articles {
        state.invalidate_article(article);
    }
    tracing::info!(author = id, status = %change.status, hidden = hidden.len(), moderator = %moderator.name, "author status changed");
    Ok(author)
}

/// Tells the website about the comments a status change hid: `comment.hidden` for each,
/// `flag.decided` for each flag their decisions resolved.
async fn record_hidden(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    hidden: &[hide_existing::Hidden],
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let events = state.events();
    let comments: Vec<(i64, &str)> = hidden
        .iter()
        .map(|h| (h.comment_id, h.article_id.as_str()))
        .collect();
    events.comments_hidden(txn, &comments, now).await?;
    for h in hidden.iter().filter(|h| h.resolved_flags) {
        events
            .flags_decided(txn, h.comment_id, &h.decision, now)
            .await?;
    }
    Ok(())
}

/// One page of an author's comments, newest first, any status, each with its article.
pub async fn comments(
    state: &AppState,
    id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<(comment::Model, article::Model)>, ServiceError> {
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
