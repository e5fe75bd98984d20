//! A stored response to a keyed post names its author in a column of its own, so erasing an
//! author drops exactly their stored responses (matching the id inside the JSON body also hit
//! other authors' responses that held the same string, and on SQLite ignored case). Existing
//! rows take the author id from the body they store.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;
use sea_orm_migration::sea_orm::DbBackend;

use crate::util::{add_column, create_index, drop_column, drop_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "idempotency_keys", text_null("author_id")).await?;
        let backfill = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE idempotency_keys SET author_id = CAST(response_body AS jsonb) -> 'author' ->> 'id' \
                 WHERE response_body LIKE '{%'"
            }
            _ => {
                "UPDATE idempotency_keys SET author_id = json_extract(response_body, '$.author.id') \
                 WHERE json_valid(response_body)"
            }
        };
        manager
            .get_connection()
            .execute_unprepared(backfill)
            .await?;
        create_index(
            manager,
            "idx_idempotency_keys_author",
            "idempotency_keys",
            &["author_id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "idx_idempotency_keys_author", "idempotency_keys").await?;
        drop_column(manager, "idempotency_keys", "author_id").await
    }
}
