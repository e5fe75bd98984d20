//! Articles and their discussion: the website registers them; moderators close and reopen.

use chrono::{DateTime, SubsecRound, Utc};

use crate::auth::Caller;
use crate::domain::ids::{ArticleId, TopicSlug};
use crate::domain::lifecycle;
use crate::domain::states::{
    ArticleLinkPolicy, ClosedReason, DiscussionAction, DiscussionStatus, EventType, LogAction, Via,
};
use crate::entity::article;
use crate::error::ServiceError;
use crate::events::Stream;
use crate::service::comments::load_article;
use crate::state::AppState;
use crate::store::{articles, audit, topics};
use crate::views;

/// An article as the website describes it, parsed.
pub struct ArticleInput {
    pub title: String,
    pub url: String,
    pub topic: Option<TopicSlug>,
    pub published_at: DateTime<Utc>,
}

/// Registers or updates an article; `closes_at` follows from `published_at` by the age rule.
/// Returns the article and whether it was created.
pub async fn put(
    state: &AppState,
    id: ArticleId,
    input: ArticleInput,
) -> Result<(article::Model, bool), ServiceError> {
    if let Some(slug) = &input.topic
        && topics::find(state.db(), slug.as_str()).await?.is_none()
    {
        return Err(ServiceError::field(
            "topic",
            format!("no topic `{}` is registered", slug.as_str()),
        ));
    }
    let published_at = input.published_at.trunc_subsecs(6);
    let settings = state.settings();
    let closes_at = lifecycle::closes_at(
        published_at,
        settings.lifecycle.close_after_months,
        settings.lifecycle.newsroom_timezone,
    );
    let now = state.clock().now();
    let row = articles::ArticleInput {
        id: id.into_string(),
        title: input.title,
        url: input.url,
        topic: input.topic.map(TopicSlug::into_string),
        published_at,
        closes_at,
    };
    let (article, created) = {
        let _turn = state.write_gate().turn().await;
        articles::upsert(state.db(), row, now).await?
    };
    state.article_changed(&article.id);
    Ok((article, created))
}

/// A moderator's change to a discussion.
pub struct DiscussionChange {
    pub action: DiscussionAction,
    /// For the audit log.
    pub reason: Option<String>,
    /// Reopen until then (required once the article is past its age limit).
    pub until: Option<DateTime<Utc>>,
}

/// Closes a discussion now, or reopens it until `until` (default: the age limit); audit-logged in
/// the same transaction. Returns the article after the change.
pub async fn change_discussion(
    state: &AppState,
    moderator: &Caller,
    via: Via,
    id: &ArticleId,
    change: DiscussionChange,
) -> Result<article::Model, ServiceError> {
    let now = state.clock().now();
    let article = load_article(state, id.as_str()).await?;
    let closed_now = match change.action {
        DiscussionAction::Close => {
            close(state, (moderator, via), &article, change.reason, now).await?
        }
        DiscussionAction::Reopen => {
            let by = (moderator, via);
            reopen(state, by, &article, change.reason, change.until, now).await?;
            false
        }
    };
    if closed_now {
        ::metrics::counter!(crate::metrics::DISCUSSIONS_CLOSED, "reason" => ClosedReason::Moderator.as_str())
            .increment(1);
    }
    state.article_changed(&article.id);
    state.jobs().events.wake();
    load_article(state, id.as_str()).await
}

async fn close(
    state: &AppState,
    (moderator, via): (&Caller, Via),
    article: &article::Model,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    if !views::articles::state_of(article, now).is_open() {
        return Ok(false);
    }
    let txn = state.begin_write().await?;
    let changed = articles::close_by_moderator(&*txn, &article.id, now).await? > 0;
    if changed {
        audit::write(
            &*txn,
            audit::Entry {
                moderator: &moderator.name,
                action: LogAction::CloseDiscussion,
                comment_id: None,
                article_id: Some(&article.id),
                note: reason.as_deref(),
                via,
                author_id: None,
                details: None,
            },
            now,
        )
        .await?;
    }
    if changed {
        let ids = [article.id.clone()];
        let reason = ClosedReason::Moderator;
        state
            .events()
            .discussions_closed(&*txn, &ids, reason, now)
            .await?;
    }
    txn.commit().await?;
    Ok(changed)
}

async fn reopen(
    state: &AppState,
    (moderator, via): (&Caller, Via),
    article: &article::Model,
    reason: Option<String>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let age_limit = lifecycle::closes_at(
        article.published_at,
        state.settings().lifecycle.close_after_months,
        state.settings().lifecycle.newsroom_timezone,
    );
    let closes_at = match until {
        Some(t) if t <= now => return Err(ServiceError::field("until", "must be in the future")),
        Some(t) => t.trunc_subsecs(6),
        None if now >= age_limit => {
            return Err(ServiceError::field(
                "until",
                "is required: the article is past its age limit, so reopening needs an explicit future end",
            ));
        }
        None => age_limit,
    };
    let was_open = views::articles::state_of(article, now).is_open();
    if was_open && closes_at == article.closes_at {
        return Ok(());
    }
    let txn = state.begin_write().await?;
    articles::reopen(&*txn, &article.id, closes_at, now).await?;
    let note = reason.unwrap_or_else(|| format!("open until {}", views::dto::format_ts(closes_at)));
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: LogAction::ReopenDiscussion,
            comment_id: None,
            article_id: Some(&article.id),
            note: Some(&note),
            via,
            author_id: None,
            details: None,
        },
        now,
    )
    .await?;
    let data = serde_json::json!({
        "article_id": article.id,
        "status": DiscussionStatus::Open,
        "closes_at": views::dto::format_ts(closes_at),
    });
    let stream = Stream::Article(&article.id);
    let reopened = EventType::DiscussionReopened;
    state
        .events()
        .record(&*txn, reopened, stream, data, now)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// How a moderator sets up an article's discussion, parsed.
pub struct SettingsChange {
    pub premod: bool,
    pub links: ArticleLinkPolicy,
    pub message: Option<String>,
}

/// Stores the settings of an article's discussion in one transaction with its audit-log entry
/// (`article_settings`, with the settings before and after); they are in force for the next
/// comment at once, and this process's cached rows and pages of the article show them at once.
pub async fn set_settings(
    state: &AppState,
    moderator: &Caller,
    via: Via,
    id: &ArticleId,
    change: SettingsChange,
) -> Result<article::Model, ServiceError> {
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let Some(before) = articles::find(&*txn, id.as_str()).await? else {
        return Err(ServiceError::NotFound(format!("no article `{id}`")));
    };
    let message = change.message.as_deref();
    articles::set_settings(&*txn, &before.id, change.premod, change.links, message, now).await?;
    let details = serde_json::json!({
        "from": views::dto::ArticleSettings::from(&before),
        "to": {"premod": change.premod, "links": change.links, "message": message},
    });
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: LogAction::ArticleSettings,
            comment_id: None,
            article_id: Some(&before.id),
            note: None,
            via,
            author_id: None,
            details: Some(details.to_string()),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    state.article_changed(&before.id);
    tracing::info!(article = %before.id, premod = change.premod, links = %change.links, moderator = %moderator.name, "article settings changed");
    load_article(state, id.as_str()).await
}
