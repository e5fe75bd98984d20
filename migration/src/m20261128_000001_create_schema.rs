//! Topics, articles, comments, flags, the notification outbox, the moderation log, idempotency
//! keys and used action links — with an index for every query path the service runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("topics")
                    .col(text("slug").primary_key())
                    .col(text("name"))
                    .col(text("overview_url"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
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
                    .foreign_key(
                        ForeignKey::create()
                            .from("articles", "topic")
                            .to("topics", "slug"),
                    )
                    .to_owned(),
            )
            .await?;
        // A topic's current stories: newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_articles_topic_published")
                    .table("articles")
                    .col("topic")
                    .col("published_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
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
                    .foreign_key(
                        ForeignKey::create()
                            .from("comments", "article_id")
                            .to("articles", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("comments", "parent_id")
                            .to("comments", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // A discussion's top-level comments (parent_id IS NULL) and its replies, in id order.
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
            .create_index(
                Index::create()
                    .name("idx_comments_replies")
                    .table("comments")
                    .col("parent_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        // The per-author rate limit.
        manager
            .create_index(
                Index::create()
                    .name("idx_comments_author_created")
                    .table("comments")
                    .col("author_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("flags")
                    .col(big_pk_auto("id"))
                    .col(big_integer("comment_id"))
                    .col(text("reporter_id"))
                    .col(text("reason"))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("flags", "comment_id")
                            .to("comments", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_flags_comment")
                    .table("flags")
                    .col("comment_id")
                    .col("resolved_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
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
                    .foreign_key(
                        ForeignKey::create()
                            .from("notifications", "comment_id")
                            .to("comments", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // Filtering the outbox by status, newest first; and a comment's thread of mails.
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_status_id")
                    .table("notifications")
                    .col("status")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_comment")
                    .table("notifications")
                    .col("comment_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("moderation_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(text("moderator"))
                    .col(text("action"))
                    .col(big_integer_null("comment_id"))
                    .col(text_null("article_id"))
                    .col(text_null("note"))
                    .col(text("via"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(text("caller"))
                    .col(text("key"))
                    .col(text("request_hash"))
                    .col(integer("status_code"))
                    .col(text("response_body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("caller").col("key"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_created")
                    .table("idempotency_keys")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("used_action_tokens")
                    .col(text("fingerprint").primary_key())
                    .col(timestamp_with_time_zone("used_at"))
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        for sql in PARTIAL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "used_action_tokens",
            "idempotency_keys",
            "moderation_log",
            "notifications",
            "flags",
            "comments",
            "articles",
            "topics",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
