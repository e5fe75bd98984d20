//! The moderation queue's own index: every comment waiting for a decision (flagged, held, a
//! notice with a deadline, an open appeal), with the columns the tab counts read. Queue queries
//! state [`OPEN_QUEUE`] word for word, so both databases match this partial index and read the
//! queue's rows only, however many comments the table holds.

use sea_orm_migration::prelude::*;

use crate::util::execute_all;

/// The condition of every comment in the queue (`pending_review` is the held status).
pub const OPEN_QUEUE: &str =
    "(flag_count > 0 OR status = 'pending_review' OR due_at IS NOT NULL OR appeal_open = TRUE)";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "CREATE INDEX idx_comments_open_queue ON comments \
             (flag_count, status, due_at, appeal_open) WHERE {OPEN_QUEUE}"
        );
        execute_all(manager, &[sql]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(manager, &["DROP INDEX idx_comments_open_queue"]).await
    }
}
