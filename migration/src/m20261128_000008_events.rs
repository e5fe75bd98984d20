//! The webhook outbox: one row per event the website must learn of, written in the transaction
//! of the change, claimed with a lease by the sender.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{create_table, execute_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("events")
                .col(big_pk_auto("id"))
                .col(text("event_id").unique_key())
                .col(text("event_type"))
                // Events of one stream (a comment, an article, an author) go out in order.
                .col(text("stream"))
                .col(text("payload"))
                .col(text("status"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(text_null("lease"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(text_null("last_error")),
        )
        .await?;
        execute_all(
            manager,
            &[
                // The moderators' list, by status, newest first.
                "CREATE INDEX idx_events_status_id ON events (status, id)",
                // Due events, and the earlier pending event of a stream that a later one waits for.
                "CREATE INDEX idx_events_due ON events (next_attempt_at) WHERE status = 'pending'",
                "CREATE INDEX idx_events_stream ON events (stream, id) WHERE status = 'pending'",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("events").to_owned())
            .await
    }
}
