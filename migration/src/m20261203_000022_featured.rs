//! Editors' picks: `comments.featured`, and the partial index `idx_comments_featured` over an
//! article's featured top-level comments by id (the path of `?featured=true`, both orders).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{add_column, drop_column, drop_index, execute_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "comments", boolean("featured").default(false)).await?;
        execute_all(
            manager,
            &[
                "CREATE INDEX idx_comments_featured ON comments (article_id, id) \
               WHERE parent_id IS NULL AND featured",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "idx_comments_featured", "comments").await?;
        drop_column(manager, "comments", "featured").await
    }
}
