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

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table("comments")
                    .add_column(big_integer("review_round").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("comments")
                    .add_column(boolean("deleted_by_author").default(false))
                    .to_owned(),
            )
            .await?;
        // The round an emailed notification's links act in (the comment's round when queued).
        manager
            .alter_table(
                Table::alter()
                    .table("notifications")
                    .add_column(big_integer("review_round").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_moderation_log_comment")
                    .table("moderation_log")
                    .col("comment_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE comments SET review_round = \
                 (SELECT COUNT(*) FROM moderation_log WHERE moderation_log.comment_id = comments.id)",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_secrets")
                    .col(text("name").primary_key())
                    .col(text("value"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("service_secrets").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_moderation_log_comment")
                    .table("moderation_log")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("notifications")
                    .drop_column("review_round")
                    .to_owned(),
            )
            .await?;
        for column in ["deleted_by_author", "review_round"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("comments")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
