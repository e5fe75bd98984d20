//! The outbox leases each row to one sender (a claim token and the sender's identity), keeps the
//! data a notification is rendered from instead of the rendered mail (its action links are signed
//! at send time and never stored), and the purge job finds what retention removes by index.
//!
//! Rows already sent or failed lose their stored bodies: they hold action links that still work.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::Statement;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: &[&str] = &[
    // purge: resolved flags past retention.
    "CREATE INDEX idx_flags_resolved ON flags (resolved_at) WHERE resolved_at IS NOT NULL",
    // purge: notifications that still keep their text.
    "CREATE INDEX idx_notifications_snapshot ON notifications (created_at) WHERE snapshot IS NOT NULL",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            text_null("lease_token"),
            text_null("lease_owner"),
            text_null("snapshot"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notifications")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("used_action_tokens")
                    .add_column(timestamp_with_time_zone_null("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_used_action_tokens_expires")
                    .table("used_action_tokens")
                    .col("expires_at")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in INDEXES {
            db.execute_unprepared(sql).await?;
        }
        // The migration cannot use the service's status enum; "pending" is its wire name.
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE notifications SET body_text = '', body_html = '' WHERE status <> $1",
            ["pending".into()],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for index in ["idx_notifications_snapshot", "idx_flags_resolved"] {
            db.execute_unprepared(&format!("DROP INDEX {index}"))
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_used_action_tokens_expires")
                    .table("used_action_tokens")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("used_action_tokens")
                    .drop_column("expires_at")
                    .to_owned(),
            )
            .await?;
        for column in ["snapshot", "lease_owner", "lease_token"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notifications")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
