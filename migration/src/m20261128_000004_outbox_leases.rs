//! The outbox leases each row to one sender (a claim token and the sender's identity), keeps the
//! data a notification is rendered from instead of the rendered mail (its action links are signed
//! at send time and never stored), and the purge job finds what retention removes by index.
//!
//! Rows already sent or failed lose their stored bodies: they hold action links that still work.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::Statement;

use crate::util::{add_column, create_index, drop_column, drop_columns, drop_index, execute_all};

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
            add_column(manager, "notifications", column).await?;
        }
        add_column(
            manager,
            "used_action_tokens",
            timestamp_with_time_zone_null("expires_at"),
        )
        .await?;
        create_index(
            manager,
            "idx_used_action_tokens_expires",
            "used_action_tokens",
            &["expires_at"],
        )
        .await?;
        execute_all(manager, INDEXES).await?;
        // The migration cannot use the service's status enum; "pending" is its wire name.
        let db = manager.get_connection();
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "UPDATE notifications SET body_text = '', body_html = '' WHERE status <> $1",
            ["pending".into()],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &[
                "DROP INDEX idx_notifications_snapshot",
                "DROP INDEX idx_flags_resolved",
            ],
        )
        .await?;
        drop_index(
            manager,
            "idx_used_action_tokens_expires",
            "used_action_tokens",
        )
        .await?;
        drop_column(manager, "used_action_tokens", "expires_at").await?;
        drop_columns(
            manager,
            "notifications",
            &["snapshot", "lease_owner", "lease_token"],
        )
        .await?;
        Ok(())
    }
}
