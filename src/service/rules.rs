//! The content rules the community team sets: read, and replaced as a whole.

use std::sync::Arc;

use crate::auth::Caller;
use crate::domain::states::{LogAction, Via};
use crate::error::ServiceError;
use crate::moderation::live::Loaded;
use crate::moderation::{CompiledRules, Rules, diff};
use crate::state::AppState;
use crate::store::{audit, rules};

/// The rules in force.
pub async fn current(state: &AppState) -> Result<Arc<Loaded>, ServiceError> {
    Ok(state.rules().get(state.db(), state.clock().now()).await?)
}

/// Replaces the rules: validated and compiled first, then stored as the next version with an
/// audit-log entry saying what changed, and in force on this process at once (on the others
/// within a second).
pub async fn replace(
    state: &AppState,
    moderator: &Caller,
    via: Via,
    new: Rules,
) -> Result<Arc<Loaded>, ServiceError> {
    // Compiling 20,000 entries takes a while: not on a request worker.
    let compiled = tokio::task::spawn_blocking(move || CompiledRules::new(new))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|invalid| ServiceError::Validation(invalid.fields))?;
    let json = serde_json::to_string(compiled.rules()).map_err(ServiceError::internal)?;
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let before = match rules::lock(&*txn).await? {
        Some(row) => serde_json::from_str::<Rules>(&row.rules).unwrap_or_default(),
        None => Rules::default(),
    };
    let change = diff(&before, compiled.rules());
    let version = rules::save(&*txn, &json, &moderator.name, now).await?;
    let note = change.to_string();
    audit::write(
        &*txn,
        audit::Entry {
            moderator: &moderator.name,
            action: LogAction::RulesChanged,
            comment_id: None,
            article_id: None,
            note: Some(&note),
            via,
            author_id: None,
            details: Some(serde_json::to_string(&change).map_err(ServiceError::internal)?),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(version, moderator = %moderator.name, change = %note, "content rules changed");
    state.rules().install(Loaded {
        version,
        compiled,
        updated_at: Some(now),
        updated_by: Some(moderator.name.clone()),
    });
    Ok(state.rules().current())
}
