//! Readers' reactions to comments: one row per reader and comment, the primary key
//! `(comment_id, reader_id)`.
//!
//! A comment's count is an indexed `COUNT(*)` over its rows (the primary key's prefix), so a
//! reaction is one insert of its own row and readers reacting at once to a comment of a breaking
//! story never wait on one counter row. `idx_reactions_reader` is the erasure's path (a reader's
//! reactions go with their data).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{create_index, create_table, drop_tables, foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("reactions")
                .col(big_integer("comment_id"))
                .col(text("reader_id"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("comment_id").col("reader_id"))
                .foreign_key(&mut foreign_key(
                    "reactions",
                    "comment_id",
                    "comments",
                    "id",
                )),
        )
        .await?;
        create_index(manager, "idx_reactions_reader", "reactions", &["reader_id"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["reactions"]).await
    }
}
