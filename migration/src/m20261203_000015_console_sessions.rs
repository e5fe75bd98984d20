//! The community team's console keeps its sign-ins on the server: one row per session, found by
//! the hash of the cookie's value (the value itself is never stored), with the moderator's name,
//! the form token every POST must carry, and when the session was started and last used.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{create_index, create_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("console_sessions")
                .col(text("id_hash").primary_key())
                .col(text("moderator"))
                .col(text("csrf"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("last_seen_at")),
        )
        .await?;
        // Sessions idle too long are deleted by their last use.
        create_index(
            manager,
            "idx_console_sessions_last_seen",
            "console_sessions",
            &["last_seen_at"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("console_sessions").to_owned())
            .await
    }
}
