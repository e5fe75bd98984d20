//! Comments: post (idempotent, rate-limited), the author's edit and delete.

use chrono::Duration;

use crate::auth::Caller;
use crate::domain::comment::{Badges, CommentBody};
use crate::domain::ids::{ArticleId, CommentId};
use crate::domain::states::CommentStatus;
use crate::entity::{article, comment};
use crate::error::ServiceError;
use crate::service::idempotency::{self, KeyedRequest, StoredResponse};
use crate::service::post_queue::{Post, Written, created_response};
use crate::service::{ensure_open, rate_limit, screening};
use crate::state::AppState;
use crate::store::authors::CommentState;
use crate::store::{articles, authors, comments};

/// Loads a comment or answers 404.
pub async fn load(state: &AppState, raw_id: &str) -> Result<comment::Model, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no comment `{raw_id}`"));
    let id = CommentId::parse(raw_id).ok_or_else(not_found)?;
    comments::find(state.db(), id.0)
        .await?
        .ok_or_else(not_found)
}

/// Loads an article or answers 404.
pub async fn load_article(state: &AppState, id: &str) -> Result<article::Model, ServiceError> {
    articles::find(state.db(), id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no article `{id}`")))
}

async fn article_of(state: &AppState, c: &comment::Model) -> Result<article::Model, ServiceError> {
    articles::find(state.db(), &c.article_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("the comment's article is gone".into()))
}

/// A new comment or reply, parsed.
pub struct NewComment {
    pub author_id: String,
    pub author_name: String,
    pub author_badges: Badges,
    pub body: CommentBody,
    pub parent_id: Option<CommentId>,
}

/// Posts a comment: the discussion must be open, the parent a visible comment of the same
/// article, the author allowed to post and under the rate limit, and the text past the content
/// rules (which may hold it for review). With an `Idempotency-Key` the response is stored with
/// the comment, and a repeated request gets it back.
pub async fn post(
    state: &AppState,
    caller: &Caller,
    article_id: &ArticleId,
    new: NewComment,
    keyed: Option<KeyedRequest>,
) -> Result<StoredResponse, ServiceError> {
    if let Some(keyed) = &keyed
        && let Some(stored) = idempotency::replay(state.db(), keyed).await?
    {
        return Ok(stored);
    }
    let now = state.clock().now();
    // Before the write transaction, to keep it short: the article with the author's record (in
    // one statement; their status changes rarely) and the text's words and links (the costly
    // part).
    let (article, author) =
        articles::find_for_post(state.db(), article_id.as_str(), &new.author_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no article `{article_id}`")))?;
    ensure_open(state, &article, now).await?;
    if let Some(parent) = new.parent_id {
        check_parent(state, &article, parent).await?;
    }
    screening::ensure_may_write(author.as_ref(), now)?;
    let rules = state.rules().get(state.db(), state.clock().now()).await?;
    let article_links = article.link_policy.overriding();
    let findings = rules.compiled.inspect_in(new.body.as_str(), article_links);
    let post = Post {
        row: comments::NewComment {
            article_id: article.id.clone(),
            parent_id: new.parent_id.map(|p| p.0),
            author_id: new.author_id,
            author_name: new.author_name,
            author_badges: new.author_badges.into_string(),
            body: new.body.into_string(),
            status: CommentStatus::Visible,
            detections: None,
        },
        article,
        author,
        rules,
        findings,
        now,
        keyed,
        moderator: caller.is_moderator(),
    };
    // The post goes with the next batch (see `post_batches`); with an Idempotency-Key its
    // response is stored in the same transaction.
    let created = match state.posts().write(post).await? {
        Written::Created(created) => *created,
        Written::Answered(stored) => return Ok(stored),
    };
    if created.status == CommentStatus::Visible {
        state.invalidate_article(&created.article_id);
    } else {
        state.jobs().deliver.wake();
        state.jobs().events.wake();
    }
    ::metrics::counter!(crate::metrics::COMMENTS_POSTED).increment(1);
    created_response(&created, caller.is_moderator())
}

async fn check_parent(
    state: &AppState,
    article: &article::Model,
    parent: CommentId,
) -> Result<(), ServiceError> {
    match comments::find(state.db(), parent.0).await? {
        Some(p) if p.article_id == article.id && p.status == CommentStatus::Visible => Ok(()),
        Some(p) if p.article_id == article.id => Err(ServiceError::field(
            "parent_id",
            "names a comment that is no longer visible",
        )),
        _ => Err(ServiceError::field(
            "parent_id",
            "names no comment of this article",
        )),
    }
}

/// Checks that the caller speaks for the comment's author.
fn ensure_author(comment: &comment::Model, author_id: &str) -> Result<(), ServiceError> {
    if comment.author_id == author_id.trim() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only the author may change this comment".into(),
        ))
    }
}

/// An author's edit or delete of a comment that is no longer their visible comment (held,
/// hidden, or deleted by a moderator or by them): 409 `state_conflict`, naming its status.
fn not_theirs_to_change(comment: &comment::Model, what: &str) -> ServiceError {
    ServiceError::StateConflict {
        message: format!(
            "this comment is {}: its author can no longer {what} it",
            comment.status
        ),
        current: comment.status.to_string(),
    }
}

/// The comment as it is now, for the conflict a concurrent change caused.
async fn conflict_now(state: &AppState, id: i64, what: &str) -> Result<ServiceError, ServiceError> {
    let now = comments::find(state.db(), id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no comment `{id}`")))?;
    Ok(not_theirs_to_change(&now, what))
}

/// The author replaces a comment's text: within `COMMENT_EDIT_MINUTES` of posting, while the
/// comment is their visible comment, the discussion open and the author allowed to write. The
/// new text passes the content rules like a new comment: it may be refused, or held for review.
/// The write is a compare-and-set on the visible status it read: an edit racing a decision (a
/// moderator's hide, the flags' hold, an erasure) loses with 409 and changes nothing.
pub async fn edit(
    state: &AppState,
    raw_id: &str,
    author_id: &str,
    body: CommentBody,
) -> Result<comment::Model, ServiceError> {
    let existing = load(state, raw_id).await?;
    ensure_author(&existing, author_id)?;
    let now = state.clock().now();
    let article = article_of(state, &existing).await?;
    ensure_open(state, &article, now).await?;
    if existing.status != CommentStatus::Visible || existing.deleted_by_author {
        return Err(not_theirs_to_change(&existing, "edit"));
    }
    let minutes = state.settings().moderation.comment_edit_minutes;
    if now >= existing.created_at + Duration::minutes(minutes) {
        return Err(ServiceError::Forbidden(format!(
            "comments can be edited for {minutes} minutes after posting"
        )));
    }
    let rules = state.rules().get(state.db(), state.clock().now()).await?;
    let article_links = article.link_policy.overriding();
    let findings = rules.compiled.inspect_in(body.as_str(), article_links);
    let txn = state.begin_write().await?;
    rate_limit::take_turn(&txn, &existing.author_id).await?;
    let author = authors::find(&*txn, &existing.author_id).await?;
    screening::ensure_may_write(author.as_ref(), now)?;
    let subject = screening::Subject {
        author_id: &existing.author_id,
        author: author.as_ref(),
        text: body.as_str(),
        article_premod: article.premod,
        editing: Some(existing.id),
    };
    let screened = screening::screen(&*txn, state, &rules, &findings, subject, now).await?;
    let detections = screened.detections_json();
    let id = existing.id;
    let Some(updated) = comments::edit_body(
        &*txn,
        existing,
        body.into_string(),
        screened.status,
        detections,
        now,
    )
    .await?
    else {
        drop(txn);
        return Err(conflict_now(state, id, "edit").await?);
    };
    if updated.status == CommentStatus::PendingReview {
        screening::held(&*txn, state, &screened, &updated, &article, now).await?;
    }
    txn.commit().await?;
    state.invalidate_article(&updated.article_id);
    if updated.status == CommentStatus::PendingReview {
        state.jobs().deliver.wake();
        state.jobs().events.wake();
    }
    Ok(updated)
}

/// The author deletes their visible comment while the discussion is open; deleting it again
/// changes nothing. A held, hidden or moderator-deleted comment stays as the decision left it
/// (409), and keeps counting against its author. The write is a compare-and-set on the status
/// it read: a delete racing a decision loses with 409.
pub async fn delete(state: &AppState, raw_id: &str, author_id: &str) -> Result<(), ServiceError> {
    let existing = load(state, raw_id).await?;
    ensure_author(&existing, author_id)?;
    let now = state.clock().now();
    let article = article_of(state, &existing).await?;
    ensure_open(state, &article, now).await?;
    if existing.deleted_by_author {
        return Ok(());
    }
    if existing.status != CommentStatus::Visible {
        return Err(not_theirs_to_change(&existing, "delete"));
    }
    let txn = state.begin_write().await?;
    let deleted = CommentState {
        status: CommentStatus::Deleted,
        approved: existing.approved,
        deleted_by_author: true,
    };
    if !comments::change_state(&*txn, &existing, deleted).await? {
        drop(txn);
        let now = comments::find(state.db(), existing.id).await?;
        return match now {
            // The author's own concurrent delete: the same outcome.
            Some(c) if c.deleted_by_author => Ok(()),
            Some(c) => Err(not_theirs_to_change(&c, "delete")),
            None => Err(ServiceError::NotFound(format!("no comment `{raw_id}`"))),
        };
    }
    txn.commit().await?;
    state.invalidate_article(&existing.article_id);
    Ok(())
}
