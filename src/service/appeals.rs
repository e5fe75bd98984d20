//! Appeals: the author of a hidden or deleted comment contests the decision, once per decision,
//! within six months; a different moderator decides (see `service::moderation`).

use crate::db;
use crate::domain::comment::CommentBody;
use crate::domain::statement::appeal_possible_until;
use crate::domain::states::CommentStatus;
use crate::entity::appeal;
use crate::error::ServiceError;
use crate::service::comments::load;
use crate::state::AppState;
use crate::store::{decisions, moderation};

/// The longest appeal text.
pub const MAX_APPEAL_CHARS: usize = 2000;

/// Files the author's appeal against the latest decision that hid or deleted the comment.
pub async fn appeal(
    state: &AppState,
    raw_id: &str,
    author_id: &str,
    text: CommentBody,
) -> Result<appeal::Model, ServiceError> {
    let read = load(state, raw_id).await?;
    let not_theirs = || ServiceError::Forbidden("only the comment's author may appeal".into());
    if read.author_id != author_id.trim() {
        return Err(not_theirs());
    }
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    // Everything the appeal depends on is read again in its transaction (and on PostgreSQL the
    // comment's row is locked): a decision or an erasure since the read above is seen.
    let comment = moderation::lock(&*txn, read.id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no comment `{raw_id}`")))?;
    if comment.author_id != author_id.trim() {
        return Err(not_theirs());
    }
    let conflict = |message: &str, current: &str| ServiceError::StateConflict {
        message: message.to_string(),
        current: current.to_string(),
    };
    let decision = match decisions::latest_restricting(&*txn, comment.id).await? {
        Some(d) if !d.automated => d,
        Some(_) => {
            return Err(conflict(
                "the comment waits for a moderator's review; there is no decision to appeal yet",
                CommentStatus::PendingReview.as_str(),
            ));
        }
        None => {
            return Err(conflict(
                "no decision restricted this comment",
                comment.status.as_str(),
            ));
        }
    };
    if comment.deleted_by_author
        || !matches!(
            comment.status,
            CommentStatus::Hidden | CommentStatus::Deleted
        )
    {
        return Err(conflict(
            "the comment is not hidden or deleted by a moderator",
            comment.status.as_str(),
        ));
    }
    if now > appeal_possible_until(decision.decided_at) {
        return Err(conflict(
            "the time to appeal this decision (6 months) is over",
            "appeal_period_over",
        ));
    }
    if let Some(existing) = decisions::appeal_of(&*txn, decision.id).await? {
        return Err(conflict(
            "this decision was already appealed",
            existing.status.as_str(),
        ));
    }
    let appeal = decisions::insert_appeal(
        &*txn,
        comment.id,
        decision.id,
        &comment.author_id,
        text.as_str(),
        now,
    )
    .await;
    let appeal = match appeal {
        Ok(a) => a,
        // The same author appealed concurrently.
        Err(e) if db::is_unique_violation(&e) => {
            return Err(conflict("this decision was already appealed", "open"));
        }
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    tracing::info!(
        comment = comment.id,
        appeal = appeal.id,
        "decision appealed"
    );
    Ok(appeal)
}
