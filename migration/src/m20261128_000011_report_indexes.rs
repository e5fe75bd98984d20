//! The transparency report counts suspensions and bans of a period in the audit log, which grows
//! by an entry per decision: an index on `(action, at)` reads only those entries.

use sea_orm_migration::prelude::*;

use crate::util::{create_index, drop_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(
            manager,
            "idx_moderation_log_action_at",
            "moderation_log",
            &["action", "at"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "idx_moderation_log_action_at", "moderation_log").await
    }
}
