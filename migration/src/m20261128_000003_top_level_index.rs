//! An index that gives a discussion's top-level comments in id order on both databases.
//!
//! `(article_id, parent_id, id)` answers `parent_id IS NULL` but PostgreSQL does not treat
//! `IS NULL` as an equality, so it could not read the index in `id` order and scanned the primary
//! key instead: fine deep in a thread, slow on the first page of a large one. A partial index on
//! `(article_id, id) WHERE parent_id IS NULL` is ordered by `id` for each article.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_comments_top_level ON comments (article_id, id) WHERE parent_id IS NULL",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_comments_thread")
                    .table("comments")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_thread")
                    .table("comments")
                    .col("article_id")
                    .col("parent_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_comments_top_level")
                    .table("comments")
                    .to_owned(),
            )
            .await
    }
}
