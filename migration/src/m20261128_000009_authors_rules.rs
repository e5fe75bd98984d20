//! Automatic moderation: authors, the content rules, and what a held comment carries.
//!
//! - `authors`: one row per author id the service has seen (or a moderator named), with the
//!   status moderation gives them and counts the write transactions keep up to date. Existing
//!   comments are counted once here, set-based.
//! - `moderation_rules`: the one current rules object (JSON) with a version number that every
//!   replica checks at most once a second.
//! - `comments.detections` (JSON) says why the rules held a comment; `comments.approved` that a
//!   moderator approved it (it then counts toward `new_author_premod`).
//! - `moderation_log.author_id` and `.details`: entries about an author, and what a rules change
//!   changed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{add_column, create_table, drop_columns, drop_tables, execute_all};

/// One author record per author id of the comments, with their counts (set-based; the
/// generator runs it too).
pub const AUTHORS_FROM_COMMENTS: &str = "INSERT INTO authors (id, name, status, first_seen_at, comments, visible, approved, \
       hidden, deleted_by_moderator, deleted_by_author, flags_received, held, \
       approved_or_visible) \
     SELECT c.author_id, \
       (SELECT l.author_name FROM comments l WHERE l.author_id = c.author_id \
        ORDER BY l.id DESC LIMIT 1), \
       'active', MIN(c.created_at), COUNT(*), \
       SUM(CASE WHEN c.status = 'visible' THEN 1 ELSE 0 END), \
       SUM(CASE WHEN c.approved THEN 1 ELSE 0 END), \
       SUM(CASE WHEN c.status = 'hidden' THEN 1 ELSE 0 END), \
       SUM(CASE WHEN c.status = 'deleted' AND NOT c.deleted_by_author THEN 1 ELSE 0 END), \
       SUM(CASE WHEN c.deleted_by_author THEN 1 ELSE 0 END), \
       (SELECT COUNT(*) FROM flags f JOIN comments fc ON fc.id = f.comment_id \
        WHERE fc.author_id = c.author_id), \
       SUM(CASE WHEN c.status = 'pending_review' THEN 1 ELSE 0 END), \
       SUM(CASE WHEN c.status = 'visible' OR c.approved THEN 1 ELSE 0 END) \
     FROM comments c GROUP BY c.author_id";

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counts an author record keeps.
const COUNTS: [&str; 9] = [
    "comments",
    "visible",
    "approved",
    "hidden",
    "deleted_by_moderator",
    "deleted_by_author",
    "flags_received",
    "held",
    "approved_or_visible",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut authors = Table::create();
        authors
            .table("authors")
            .col(text("id").primary_key())
            .col(text("name"))
            .col(text("status").default("active"))
            .col(timestamp_with_time_zone_null("until"))
            .col(text_null("reason"))
            .col(timestamp_with_time_zone("first_seen_at"));
        for count in COUNTS {
            authors.col(big_integer(count).default(0));
        }
        create_table(manager, &mut authors).await?;
        create_table(
            manager,
            Table::create()
                .table("moderation_rules")
                .col(integer("id").primary_key())
                .col(big_integer("version"))
                .col(text("rules"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(text_null("updated_by")),
        )
        .await?;
        add_column(manager, "comments", text_null("detections")).await?;
        add_column(manager, "comments", boolean("approved").default(false)).await?;
        add_column(manager, "moderation_log", text_null("author_id")).await?;
        add_column(manager, "moderation_log", text_null("details")).await?;
        execute_all(
            manager,
            &[
                // An author's comments, newest first.
                "CREATE INDEX idx_comments_author_id ON comments (author_id, id)",
                // The queue: flagged or held comments.
                "CREATE INDEX idx_comments_review ON comments (id) \
                 WHERE flag_count > 0 OR status = 'pending_review'",
                "CREATE INDEX idx_moderation_log_author ON moderation_log (author_id, id) \
                 WHERE author_id IS NOT NULL",
                "UPDATE comments SET approved = EXISTS (SELECT 1 FROM moderation_log l \
                 WHERE l.comment_id = comments.id AND l.action = 'approve')",
                AUTHORS_FROM_COMMENTS,
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &[
                "DROP INDEX idx_moderation_log_author",
                "DROP INDEX idx_comments_review",
                "DROP INDEX idx_comments_author_id",
            ],
        )
        .await?;
        drop_columns(manager, "moderation_log", &["details", "author_id"]).await?;
        drop_columns(manager, "comments", &["approved", "detections"]).await?;
        drop_tables(manager, &["moderation_rules", "authors"]).await
    }
}
