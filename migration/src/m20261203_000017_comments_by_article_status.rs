//! An article's comments counted by status (the console's article page) read an index instead
//! of the whole table.

use sea_orm_migration::prelude::*;

use crate::util::{create_index, drop_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(
            manager,
            "idx_comments_article_status",
            "comments",
            &["article_id", "status"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_index(manager, "idx_comments_article_status", "comments").await
    }
}
