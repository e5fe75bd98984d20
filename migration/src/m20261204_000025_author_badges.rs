//! Labels the website gives a comment's author when it posts (`staff`, `expert`, `subscriber`):
//! `comments.author_badges`, the labels in their fixed order, comma-separated (empty: none).
//! A reader's reactions are read by comment for their export: `idx_reactions_by_reader`
//! `(reader_id, comment_id)` replaces `idx_reactions_reader` (and is the erasure's path).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{add_column, create_index, drop_column, drop_index, execute_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "comments", string("author_badges").default("")).await?;
        create_index(
            manager,
            "idx_reactions_by_reader",
            "reactions",
            &["reader_id", "comment_id"],
        )
        .await?;
        execute_all(manager, &["DROP INDEX idx_reactions_reader"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(manager, "idx_reactions_reader", "reactions", &["reader_id"]).await?;
        drop_index(manager, "idx_reactions_by_reader", "reactions").await?;
        drop_column(manager, "comments", "author_badges").await
    }
}
