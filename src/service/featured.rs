//! Editors' picks: a moderator makes a visible comment `featured` or takes it back, in one
//! transaction with its audit-log entry (`feature`, `unfeature`) and its webhook event
//! (`comment.featured`, with `featured` true or false); the article's cached pages are dropped at
//! once, as an edit drops them, since a pick changes which comments `?featured=true` lists.

use serde_json::json;

use crate::auth::Caller;
use crate::domain::states::{CommentStatus, EventType, LogAction, Via};
use crate::entity::comment;
use crate::error::ServiceError;
use crate::events::Stream;
use crate::service::comments::load;
use crate::state::AppState;
use crate::store::{audit, comments};

/// Makes the comment an editors' pick (`featured`) or not. Only a visible comment can be
/// picked (409 otherwise); taking a pick back works whatever the status. Repeating either
/// changes nothing, logs nothing and records no event.
pub async fn set(
    state: &AppState,
    moderator: &Caller,
    raw_id: &str,
    featured: bool,
) -> Result<comment::Model, ServiceError> {
    let existing = load(state, raw_id).await?;
    if featured && existing.status != CommentStatus::Visible {
        return Err(ServiceError::StateConflict {
            message: format!("this comment is {}: it cannot be featured", existing.status),
            current: existing.status.to_string(),
        });
    }
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let changed = comments::set_featured(&*txn, existing.id, featured).await?;
    if changed {
        let action = if featured {
            LogAction::Feature
        } else {
            LogAction::Unfeature
        };
        audit::write(
            &*txn,
            audit::Entry {
                moderator: &moderator.name,
                action,
                comment_id: Some(existing.id),
                article_id: Some(&existing.article_id),
                note: None,
                via: Via::Api,
                author_id: Some(&existing.author_id),
                details: None,
            },
            now,
        )
        .await?;
        let data = json!({
            "comment_id": existing.id.to_string(),
            "article_id": existing.article_id,
            "featured": featured,
        });
        state
            .events()
            .record(
                &*txn,
                EventType::CommentFeatured,
                Stream::Comment(existing.id),
                data,
                now,
            )
            .await?;
    }
    txn.commit().await?;
    if changed {
        state.invalidate_article(&existing.article_id);
        state.jobs().events.wake();
    }
    Ok(comment::Model {
        featured,
        ..existing
    })
}
