//! Moderators' notes on authors: written by one moderator, read by all, audit-logged, erased
//! with the author's data.

use crate::auth::Caller;
use crate::domain::states::{LogAction, Via};
use crate::entity::author_note;
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::{audit, notes};

/// Adds a note about `author_id` (already parsed: 1 to 2,000 characters) in one transaction with
/// its audit-log entry (`author_note`, naming the note, not its text). A note about an author id
/// the service has not seen stores only the note.
pub async fn add(
    state: &AppState,
    moderator: &Caller,
    via: Via,
    author_id: &str,
    text: &str,
) -> Result<author_note::Model, ServiceError> {
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let note = notes::insert(&*txn, author_id, &moderator.name, text, now).await?;
    let details = serde_json::json!({"note_id": note.id.to_string()});
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: LogAction::AuthorNote,
            comment_id: None,
            article_id: None,
            note: None,
            via,
            author_id: Some(author_id),
            details: Some(details.to_string()),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(author = author_id, note = note.id, moderator = %moderator.name, "author note added");
    Ok(note)
}

/// One page of the notes about `author_id`, newest first (empty for an id without notes).
pub async fn list(
    state: &AppState,
    author_id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<author_note::Model>, ServiceError> {
    Ok(notes::list(state.db(), author_id, before, limit).await?)
}
