//! An index that gives a discussion's top-level comments in id order on both databases.
//!
//! `(article_id, parent_id, id)` answers `parent_id IS NULL` but PostgreSQL does not treat
//! `IS NULL` as an equality, so it could not read the index in `id` order and scanned the primary
//! key instead: fine deep in a thread, slow on the first page of a large one. A partial index on
//! `(article_id, id) WHERE parent_id IS NULL` is ordered by `id` for each article.

use sea_orm_migration::prelude::*;

use crate::m20261128_000001_create_schema::create_thread_index;
use crate::util::{drop_index, execute_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &["CREATE INDEX idx_comments_top_level ON comments (article_id, id) WHERE parent_id IS NULL"],
        )
        .await?;
        drop_index(manager, "idx_comments_thread", "comments").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_thread_index(manager).await?;
        drop_index(manager, "idx_comments_top_level", "comments").await
    }
}
