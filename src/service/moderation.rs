//! A moderator's decision on a comment: the one function behind the API's
//! `POST /comments/{id}/moderation` and the emailed action links.
//!
//! Decisions hold: every decision that changes something ends the comment's review round, and an
//! emailed link acts only in the round its email was sent in, so a link from an earlier email
//! cannot overturn a later decision. A comment its author deleted can never be restored (only
//! deleting it again is allowed, and changes nothing but its flags).

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use crate::db;
use crate::domain::action_link::{ActionClaims, ActionLinkError, token_fingerprint};
use crate::domain::statement::Statement;
use crate::domain::states::{EventType, ModerationAction, Via};
use crate::entity::{comment, moderation_log, used_action_token};
use crate::error::ServiceError;
use crate::events::Stream;
use crate::state::AppState;
use crate::store::{audit, comments, decisions, moderation};

/// One decision: what, by whom, and how.
pub struct Decision<'a> {
    pub comment_id: i64,
    pub action: ModerationAction,
    pub moderator: &'a str,
    pub note: Option<&'a str>,
    pub via: Via,
    /// The statement of reasons; required for `hide` and `delete`.
    pub statement: Option<Statement>,
    /// The emailed action link the decision came through; it acts only in its review round and
    /// is spent in the decision's transaction, so it acts once.
    pub link: Option<Link<'a>>,
}

/// An emailed action link: the token and the review round it was issued for.
#[derive(Clone, Copy)]
pub struct Link<'a> {
    pub token: &'a str,
    pub round: i64,
}

/// How a decision ended.
#[derive(Debug)]
pub enum Decided {
    /// The comment after the decision.
    Done(comment::Model),
    /// No such comment (any more).
    CommentGone,
    /// The link's review round is over (someone decided since its email), or the link was used:
    /// the newest decision on the comment, if the log has one.
    AlreadyDecided(Option<moderation_log::Model>),
    /// The author deleted the comment: it cannot be approved or hidden.
    DeletedByAuthor(comment::Model),
}

/// Why a decision does not apply to a comment as it is now.
enum Refusal {
    /// The link's round is over, or the link was used.
    AlreadyDecided,
    /// The author deleted the comment and the decision would restore it.
    DeletedByAuthor,
}

/// Whether `action`, through a link of review round `round` (none for the API), applies to
/// `comment` as it is now.
fn refusal(
    comment: &comment::Model,
    action: ModerationAction,
    round: Option<i64>,
) -> Option<Refusal> {
    if round.is_some_and(|r| r != comment.review_round) {
        Some(Refusal::AlreadyDecided)
    } else if comment.deleted_by_author && action != ModerationAction::Delete {
        Some(Refusal::DeletedByAuthor)
    } else {
        None
    }
}

/// Applies a decision in one transaction: the comment's status, its flags resolved, the end of its
/// review round, the audit log, and the spent link. Repeating a decision changes nothing and logs
/// nothing.
pub async fn decide(state: &AppState, decision: Decision<'_>) -> Result<Decided, ServiceError> {
    if decision.action != ModerationAction::Approve && decision.statement.is_none() {
        return Err(ServiceError::Validation(BTreeMap::from([
            (
                "ground".to_string(),
                format!("is required to {} a comment", decision.action),
            ),
            (
                "category".to_string(),
                format!("is required to {} a comment", decision.action),
            ),
        ])));
    }
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let Some(current) = moderation::lock(&*txn, decision.comment_id).await? else {
        return Ok(Decided::CommentGone);
    };
    match refusal(&current, decision.action, decision.link.map(|l| l.round)) {
        Some(Refusal::AlreadyDecided) => {
            drop(txn);
            return already_decided(state, current.id).await;
        }
        Some(Refusal::DeletedByAuthor) => return Ok(Decided::DeletedByAuthor(current)),
        None => {}
    }
    if current.appeal_open {
        ensure_another_moderator(&*txn, &current, decision.moderator).await?;
    }
    if let Some(link) = decision.link {
        let spent = used_action_token::ActiveModel {
            fingerprint: Set(token_fingerprint(link.token)),
            used_at: Set(now),
            // Kept until the link expires (the purge job); it is refused anyway afterwards.
            expires_at: Set(state
                .signer()
                .verify(link.token, now)
                .ok()
                .map(|c| c.expires_at)),
        }
        .insert(&*txn)
        .await;
        match spent {
            Ok(_) => {}
            Err(e) if db::is_unique_violation(&e) => {
                drop(txn);
                return already_decided(state, current.id).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let input = moderation::DecisionInput {
        action: decision.action,
        moderator: decision.moderator,
        note: decision.note,
        via: decision.via,
        statement: decision.statement.as_ref(),
    };
    let applied = moderation::decide(&*txn, &current, &input, now).await?;
    if let Some(applied) = &applied {
        record_events(state, &*txn, &current, decision.action, applied, now).await?;
    }
    txn.commit().await?;
    if applied.is_some() {
        state.jobs().events.wake();
        state.invalidate_article(&current.article_id);
        tracing::info!(
            comment = current.id,
            action = %decision.action,
            moderator = decision.moderator,
            via = %decision.via,
            "moderation decision"
        );
    }
    let after = comments::find(state.db(), decision.comment_id).await?;
    Ok(after.map_or(Decided::CommentGone, Decided::Done))
}

/// Tells the website what a decision changed: the comment's new status (`comment.approved`,
/// `comment.hidden`, `comment.deleted`) and each flag it decided (`flag.decided`).
async fn record_events(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    comment: &comment::Model,
    action: ModerationAction,
    applied: &moderation::Applied,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    let events = state.events();
    let stream = || Stream::Comment(comment.id);
    if applied.status_changed {
        let event_type = match action {
            ModerationAction::Approve => EventType::CommentApproved,
            ModerationAction::Hide => EventType::CommentHidden,
            ModerationAction::Delete => EventType::CommentDeleted,
        };
        let data = json!({
            "comment_id": comment.id.to_string(),
            "article_id": comment.article_id,
            "status": action.target_status(),
        });
        events.record(txn, event_type, stream(), data, now).await?;
    }
    if !applied.resolved.is_empty() {
        events
            .flags_decided(txn, comment.id, &applied.decision, now)
            .await?;
    }
    if let Some((appeal_id, outcome)) = applied.appeal {
        let data = json!({
            "comment_id": comment.id.to_string(),
            "article_id": comment.article_id,
            "appeal_id": appeal_id.to_string(),
            "outcome": outcome,
            "status": action.target_status(),
        });
        events
            .record(txn, EventType::CommentAppealDecided, stream(), data, now)
            .await?;
    }
    Ok(())
}

/// An appeal is never decided by the moderator who made the contested decision.
async fn ensure_another_moderator(
    db: &impl sea_orm::ConnectionTrait,
    comment: &comment::Model,
    moderator: &str,
) -> Result<(), ServiceError> {
    let Some(appeal) = decisions::open_appeal(db, comment.id).await? else {
        return Ok(());
    };
    let contested = decisions::find(db, appeal.decision_id).await?;
    if contested.and_then(|d| d.moderator).as_deref() == Some(moderator) {
        return Err(ServiceError::Forbidden(
            "an appeal is decided by another moderator than the one who made the contested decision"
                .into(),
        ));
    }
    Ok(())
}

/// The newest decision on a comment, read outside the refused decision's transaction.
async fn already_decided(state: &AppState, comment_id: i64) -> Result<Decided, ServiceError> {
    Ok(Decided::AlreadyDecided(
        audit::last_decision(state.db(), comment_id).await?,
    ))
}

/// What an action link is worth now.
#[derive(Debug)]
pub enum LinkCheck {
    /// The link would act on the comment.
    Valid(ActionClaims, comment::Model),
    Expired,
    Invalid,
    CommentGone,
    /// Used, or its round is over: the newest decision on the comment, if any.
    AlreadyDecided(Option<moderation_log::Model>),
    /// The author deleted the comment; the link would restore it.
    DeletedByAuthor(comment::Model),
}

/// Checks an action link without acting: authentic, not expired, not used, its round not over,
/// and not restoring what the author deleted.
pub async fn check_link(state: &AppState, token: &str) -> Result<LinkCheck, ServiceError> {
    let claims = match state.signer().verify(token, state.clock().now()) {
        Ok(c) => c,
        Err(ActionLinkError::Expired) => return Ok(LinkCheck::Expired),
        Err(_) => return Ok(LinkCheck::Invalid),
    };
    let used = used_action_token::Entity::find_by_id(token_fingerprint(token))
        .one(state.db())
        .await?;
    let Some(comment) = comments::find(state.db(), claims.comment_id).await? else {
        return Ok(LinkCheck::CommentGone);
    };
    let refused = if used.is_some() {
        Some(Refusal::AlreadyDecided)
    } else {
        refusal(&comment, claims.action, Some(claims.round))
    };
    Ok(match refused {
        Some(Refusal::AlreadyDecided) => {
            LinkCheck::AlreadyDecided(audit::last_decision(state.db(), comment.id).await?)
        }
        Some(Refusal::DeletedByAuthor) => LinkCheck::DeletedByAuthor(comment),
        None => LinkCheck::Valid(claims, comment),
    })
}
