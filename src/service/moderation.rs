//! A moderator's decision on a comment: the one function behind the API's
//! `POST /comments/{id}/moderation` and the emailed action links.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use crate::db;
use crate::domain::action_link::{ActionClaims, ActionLinkError, token_fingerprint};
use crate::domain::states::{ModerationAction, Via};
use crate::entity::{comment, used_action_token};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{comments, moderation};

/// One decision: what, by whom, and how.
pub struct Decision<'a> {
    pub comment_id: i64,
    pub action: ModerationAction,
    pub moderator: &'a str,
    pub note: Option<&'a str>,
    pub via: Via,
    /// The emailed action link the decision came through; it is spent in the decision's
    /// transaction, so it acts once.
    pub link: Option<&'a str>,
}

/// How a decision ended.
#[derive(Debug)]
pub enum Decided {
    /// The comment after the decision.
    Done(comment::Model),
    /// No such comment (any more).
    CommentGone,
    /// The action link was already used.
    LinkUsed,
}

/// Applies a decision in one transaction: the comment's status, its flags resolved, the audit
/// log, and the spent link. Repeating a decision changes nothing and logs nothing.
pub async fn decide(state: &AppState, decision: Decision<'_>) -> Result<Decided, ApiError> {
    let now = state.clock.now();
    let txn = db::begin_write(&state.db, &state.write_gate).await?;
    let Some(current) = comments::find(&*txn, decision.comment_id).await? else {
        return Ok(Decided::CommentGone);
    };
    if let Some(token) = decision.link {
        let spent = used_action_token::ActiveModel {
            fingerprint: Set(token_fingerprint(token)),
            used_at: Set(now),
            // Kept until the link expires (the purge job); it is refused anyway afterwards.
            expires_at: Set(state.signer.verify(token, now).ok().map(|c| c.expires_at)),
        }
        .insert(&*txn)
        .await;
        match spent {
            Ok(_) => {}
            Err(e) if db::is_unique_violation(&e) => return Ok(Decided::LinkUsed),
            Err(e) => return Err(e.into()),
        }
    }
    let changed = moderation::decide(
        &*txn,
        &current,
        decision.action,
        decision.moderator,
        decision.note,
        decision.via,
        now,
    )
    .await?;
    txn.commit().await?;
    if changed {
        state.invalidate_article(&current.article_id);
        tracing::info!(
            comment = current.id,
            action = %decision.action,
            moderator = decision.moderator,
            via = %decision.via,
            "moderation decision"
        );
    }
    let after = comments::find(&state.db, decision.comment_id).await?;
    Ok(after.map_or(Decided::CommentGone, Decided::Done))
}

/// What an action link is worth now.
#[derive(Debug)]
pub enum LinkCheck {
    Valid(ActionClaims),
    Expired,
    Invalid,
    Used,
}

/// Checks an action link: authentic, not expired, not used.
pub async fn check_link(state: &AppState, token: &str) -> Result<LinkCheck, ApiError> {
    let claims = match state.signer.verify(token, state.clock.now()) {
        Ok(c) => c,
        Err(ActionLinkError::Expired) => return Ok(LinkCheck::Expired),
        Err(_) => return Ok(LinkCheck::Invalid),
    };
    let used = used_action_token::Entity::find_by_id(token_fingerprint(token))
        .one(&state.db)
        .await?;
    Ok(if used.is_some() {
        LinkCheck::Used
    } else {
        LinkCheck::Valid(claims)
    })
}
