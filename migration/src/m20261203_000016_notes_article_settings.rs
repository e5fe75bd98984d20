//! Moderators' notes on authors, and the settings of an article's discussion.
//!
//! - `author_notes`: what moderators note about an author id (who wrote it, when), read newest
//!   first per author; erased with the author's data.
//! - `articles.premod` (every new comment of the article is held for review),
//!   `.link_policy` (`inherit` the content rules' link rule, or `allow`, `premod`, `reject` for
//!   this article) and `.settings_message` (what the discussion's readers are told, or null).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{add_column, create_index, create_table, drop_columns, drop_tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("author_notes")
                .col(big_pk_auto("id"))
                .col(text("author_id"))
                .col(text("moderator"))
                .col(text("text"))
                .col(timestamp_with_time_zone("created_at")),
        )
        .await?;
        create_index(
            manager,
            "idx_author_notes_author",
            "author_notes",
            &["author_id", "id"],
        )
        .await?;
        add_column(manager, "articles", boolean("premod").default(false)).await?;
        add_column(manager, "articles", text("link_policy").default("inherit")).await?;
        add_column(manager, "articles", text_null("settings_message")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "articles",
            &["settings_message", "link_policy", "premod"],
        )
        .await?;
        drop_tables(manager, &["author_notes"]).await
    }
}
