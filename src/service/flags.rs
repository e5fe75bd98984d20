//! Readers flag a comment; reaching a threshold queues the community team's email (and, at the
//! hide threshold, hides the comment pending review) in the transaction of the flag.

use chrono::Duration;

use crate::db;
use crate::domain::states::{
    Category, CommentStatus, DecidedAction, EventType, FlagReason, NotificationKind,
};
use crate::entity::flag;
use crate::error::ServiceError;
use crate::events::Stream;
use crate::service::comments::load;
use crate::state::AppState;
use crate::store::{articles, authors, comments, decisions, flags};

/// A flag, parsed.
pub struct NewFlag {
    pub reporter_id: String,
    pub reason: FlagReason,
    pub note: Option<String>,
    /// A notice's reporter may leave an address.
    pub reporter_email: Option<String>,
    /// The law a notice names.
    pub legal_reference: Option<String>,
}

/// The reader's open flag on the comment, and whether this request created it (a reader who
/// flags again gets their open flag back).
pub struct Flagged {
    pub flag: flag::Model,
    pub created: bool,
}

/// What the author of a comment hidden by the flag threshold is told.
const FLAGS_HOLD_EXPLANATION: &str = "Der Kommentar wurde nach mehreren Meldungen von Leserinnen und Lesern \
     vorläufig ausgeblendet, bis das Community-Team entscheidet.";

/// Which email, if any, the `count`th open flag triggers.
fn notification_for(state: &AppState, count: u32) -> Option<NotificationKind> {
    if count == state.settings().moderation.flag_hide_threshold {
        Some(NotificationKind::PendingReview)
    } else if count == state.settings().moderation.flag_notify_threshold {
        Some(NotificationKind::Flagged)
    } else {
        None
    }
}

pub async fn flag(state: &AppState, raw_id: &str, new: NewFlag) -> Result<Flagged, ServiceError> {
    let comment = load(state, raw_id).await?;
    if new.reporter_id == comment.author_id {
        return Err(ServiceError::field(
            "reporter.id",
            "readers cannot flag their own comment",
        ));
    }
    if matches!(
        comment.status,
        CommentStatus::Hidden | CommentStatus::Deleted
    ) {
        return Err(ServiceError::NotFound(format!(
            "no visible comment `{}`",
            comment.id
        )));
    }
    if let Some(existing) = flags::open_flag_of(state.db(), comment.id, &new.reporter_id).await? {
        return Ok(Flagged {
            flag: existing,
            created: false,
        });
    }

    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let inserted = flags::insert(
        &*txn,
        flags::NewFlag {
            comment_id: comment.id,
            reporter_id: &new.reporter_id,
            reason: new.reason,
            note: new.note.as_deref(),
            reporter_email: new.reporter_email.as_deref(),
            legal_reference: new.legal_reference.as_deref(),
        },
        now,
    )
    .await;
    let (flag, count) = match inserted {
        Ok(v) => v,
        Err(e) if db::is_unique_violation(&e) => {
            // The same reader flagged concurrently: answer with that flag.
            drop(txn);
            let existing = flags::open_flag_of(state.db(), comment.id, &new.reporter_id)
                .await?
                .ok_or_else(|| ServiceError::internal(e))?;
            return Ok(Flagged {
                flag: existing,
                created: false,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let count = count.max(0) as u32;
    authors::count(&*txn, &comment.author_id, authors::Tally::flag()).await?;
    // The first notice of illegal content on a comment starts its deadline, and its email goes
    // out at once, urgent.
    let notice = new.reason == FlagReason::Illegal && {
        let hours = state.settings().moderation.illegal_review_hours;
        flags::start_deadline(&*txn, comment.id, now + Duration::hours(hours)).await?
    };
    // Reaching the hide threshold hides the comment pending review; reaching the notify threshold
    // (when it is lower) only tells the team. Either way one email, queued with the flag.
    let kind = notification_for(state, count).or(notice.then_some(NotificationKind::Flagged));
    if let Some(kind) = kind {
        let current = comments::find(&*txn, comment.id)
            .await?
            .unwrap_or_else(|| comment.clone());
        if kind == NotificationKind::PendingReview && current.status == CommentStatus::Visible {
            let held =
                comments::change_status(&*txn, &current, CommentStatus::PendingReview).await?;
            if held {
                decisions::insert(
                    &*txn,
                    decisions::NewDecision {
                        comment_id: current.id,
                        action: DecidedAction::Hold,
                        statement: None,
                        automated: Some((Category::Other, FLAGS_HOLD_EXPLANATION)),
                        moderator: None,
                        via: None,
                        first_flag_at: None,
                        first_notice_at: None,
                        appeal_id: None,
                    },
                    now,
                )
                .await?;
                let data = serde_json::json!({
                    "comment_id": current.id.to_string(),
                    "article_id": current.article_id,
                    "status": CommentStatus::PendingReview,
                });
                let stream = Stream::Comment(current.id);
                let held = EventType::CommentHeld;
                state
                    .events()
                    .record(&*txn, held, stream, data, now)
                    .await?;
            }
        }
        let article = articles::find(&*txn, &comment.article_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("the comment's article is gone".into()))?;
        crate::notifications::queue(&*txn, state.settings(), kind, &current, &article, now).await?;
    }
    txn.commit().await?;
    if kind.is_some() {
        state.invalidate_article(&comment.article_id);
        state.jobs().deliver.wake();
        state.jobs().events.wake();
    }
    tracing::info!(
        comment = comment.id,
        reason = %new.reason,
        open_flags = count,
        "comment flagged"
    );
    ::metrics::counter!(crate::metrics::FLAGS, "reason" => new.reason.as_str()).increment(1);
    Ok(Flagged {
        flag,
        created: true,
    })
}
