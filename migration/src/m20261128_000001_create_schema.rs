//! Topics, articles, comments, flags, the notification outbox, the moderation log, idempotency
//! keys and used action links — with an index for every query path the service runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{create_index, create_table, drop_tables, execute_all, foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Partial indexes are written as SQL: SQLite and PostgreSQL share this syntax.
const PARTIAL_INDEXES: &[&str] = &[
    // close-expired: "which open discussions are due" stays cheap when almost none are.
    "CREATE INDEX idx_articles_due ON articles (closes_at) WHERE closed_at IS NULL",
    // The moderation queue: most flags first, then the oldest first flag.
    "CREATE INDEX idx_comments_queue ON comments (flag_count DESC, first_flag_at, id) WHERE flag_count > 0",
    // One open flag per reader and comment; after a moderator's decision a reader may flag again.
    "CREATE UNIQUE INDEX idx_flags_open_per_reporter ON flags (comment_id, reporter_id) WHERE resolved_at IS NULL",
    // The outbox: what is due to be sent.
    "CREATE INDEX idx_notifications_due ON notifications (next_attempt_at) WHERE status = 'pending'",
];

/// A discussion's top-level comments (parent_id IS NULL) and its replies, in id order; replaced
/// by a partial index in `m20261128_000003_top_level_index`, whose `down` creates it again.
pub(crate) async fn create_thread_index(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    create_index(
        manager,
        "idx_comments_thread",
        "comments",
        &["article_id", "parent_id", "id"],
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("topics")
                .col(text("slug").primary_key())
                .col(text("name"))
                .col(text("overview_url"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at")),
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("articles")
                .col(text("id").primary_key())
                .col(text("title"))
                .col(text("url"))
                .col(text_null("topic"))
                .col(timestamp_with_time_zone("published_at"))
                .col(timestamp_with_time_zone("closes_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(text_null("closed_reason"))
                .col(big_integer("comment_count").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut foreign_key("articles", "topic", "topics", "slug")),
        )
        .await?;
        // A topic's current stories: newest first.
        create_index(
            manager,
            "idx_articles_topic_published",
            "articles",
            &["topic", "published_at"],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("comments")
                .col(big_pk_auto("id"))
                .col(text("article_id"))
                .col(big_integer_null("parent_id"))
                .col(text("author_id"))
                .col(text("author_name"))
                .col(text("body"))
                .col(text("status"))
                .col(big_integer("reply_count").default(0))
                .col(big_integer("flag_count").default(0))
                .col(timestamp_with_time_zone_null("first_flag_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("edited_at"))
                .foreign_key(&mut foreign_key("comments", "article_id", "articles", "id"))
                .foreign_key(&mut foreign_key("comments", "parent_id", "comments", "id")),
        )
        .await?;
        create_thread_index(manager).await?;
        create_index(
            manager,
            "idx_comments_replies",
            "comments",
            &["parent_id", "id"],
        )
        .await?;
        // The per-author rate limit.
        create_index(
            manager,
            "idx_comments_author_created",
            "comments",
            &["author_id", "created_at"],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("flags")
                .col(big_pk_auto("id"))
                .col(big_integer("comment_id"))
                .col(text("reporter_id"))
                .col(text("reason"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("resolved_at"))
                .foreign_key(&mut foreign_key("flags", "comment_id", "comments", "id")),
        )
        .await?;
        create_index(
            manager,
            "idx_flags_comment",
            "flags",
            &["comment_id", "resolved_at"],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(big_integer("comment_id"))
                .col(text("kind"))
                .col(text("status"))
                .col(integer("attempts").default(0))
                .col(text("message_id"))
                .col(text_null("in_reply_to"))
                .col(text("subject"))
                .col(text("body_text"))
                .col(text("body_html"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(text_null("last_error"))
                .foreign_key(&mut foreign_key(
                    "notifications",
                    "comment_id",
                    "comments",
                    "id",
                )),
        )
        .await?;
        // Filtering the outbox by status, newest first; and a comment's thread of mails.
        create_index(
            manager,
            "idx_notifications_status_id",
            "notifications",
            &["status", "id"],
        )
        .await?;
        create_index(
            manager,
            "idx_notifications_comment",
            "notifications",
            &["comment_id", "id"],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("moderation_log")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(text("moderator"))
                .col(text("action"))
                .col(big_integer_null("comment_id"))
                .col(text_null("article_id"))
                .col(text_null("note"))
                .col(text("via")),
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("idempotency_keys")
                .col(text("caller"))
                .col(text("key"))
                .col(text("request_hash"))
                .col(integer("status_code"))
                .col(text("response_body"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("caller").col("key")),
        )
        .await?;
        create_index(
            manager,
            "idx_idempotency_created",
            "idempotency_keys",
            &["created_at"],
        )
        .await?;

        create_table(
            manager,
            Table::create()
                .table("used_action_tokens")
                .col(text("fingerprint").primary_key())
                .col(timestamp_with_time_zone("used_at")),
        )
        .await?;

        execute_all(manager, PARTIAL_INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "used_action_tokens",
                "idempotency_keys",
                "moderation_log",
                "notifications",
                "flags",
                "comments",
                "articles",
                "topics",
            ],
        )
        .await
    }
}
