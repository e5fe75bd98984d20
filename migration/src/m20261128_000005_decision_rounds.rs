//! Decisions that hold, and action links that survive restarts and replicas.
//!
//! - `comments.review_round`: every moderator decision ends a comment's review round; an emailed
//!   action link carries the round it was issued in and acts only in that round. Existing
//!   comments start at the number of decisions the log already holds for them, so a link from
//!   before this migration (which names no round and counts as round 0) no longer acts on a
//!   comment that was decided since it was sent.
//! - `comments.deleted_by_author`: a comment its author deleted can never be restored.
//! - `moderation_log (comment_id, id)`: "who decided last, and when" without a scan of the log.
//! - `service_secrets`: secrets the service generates once and every replica shares (the
//!   action-link secret when `ACTION_LINK_SECRET` is not set).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{
    add_column, create_index, create_table, drop_column, drop_columns, drop_index, execute_all,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        add_column(manager, "comments", big_integer("review_round").default(0)).await?;
        add_column(
            manager,
            "comments",
            boolean("deleted_by_author").default(false),
        )
        .await?;
        // The round an emailed notification's links act in (the comment's round when queued).
        add_column(
            manager,
            "notifications",
            big_integer("review_round").default(0),
        )
        .await?;
        create_index(
            manager,
            "idx_moderation_log_comment",
            "moderation_log",
            &["comment_id", "id"],
        )
        .await?;
        execute_all(
            manager,
            &["UPDATE comments SET review_round = \
               (SELECT COUNT(*) FROM moderation_log WHERE moderation_log.comment_id = comments.id)"],
        )
        .await?;
        create_table(
            manager,
            Table::create()
                .table("service_secrets")
                .col(text("name").primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("created_at")),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("service_secrets").to_owned())
            .await?;
        drop_index(manager, "idx_moderation_log_comment", "moderation_log").await?;
        drop_column(manager, "notifications", "review_round").await?;
        drop_columns(manager, "comments", &["deleted_by_author", "review_round"]).await?;
        Ok(())
    }
}
