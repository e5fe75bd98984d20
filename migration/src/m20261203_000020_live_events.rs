//! What readers of a live discussion are told, in the order it happened: `live_events`, one row
//! per change a reader of the thread can see, written by triggers in the transaction of the
//! change (so no writer can forget it, set-based ones included).
//!
//! - a comment became visible (posted visible, or approved): `created`;
//! - a visible comment's text changed and it stays visible: `edited`;
//! - a visible comment stopped being visible (hidden, deleted, erased, held after an edit):
//!   `removed`;
//! - an article's discussion was closed or reopened (`closed_at` set or cleared): `closed`,
//!   `reopened`.
//!
//! The row's `id` is the stream's event id. On PostgreSQL the trigger also calls
//! `pg_notify('live_events', '')`, sent when the transaction commits (once per transaction), so
//! every replica listening wakes and reads the new rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{create_index, create_table, drop_tables, execute_by_backend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The kind of a comment's change, from its old and new status and text (SQL, both databases).
const COMMENT_KIND: &str = "CASE WHEN OLD.status <> 'visible' THEN 'created' \
     WHEN NEW.status <> 'visible' THEN 'removed' ELSE 'edited' END";
/// Whether a comment's update is one readers see.
const COMMENT_SEEN: &str = "(OLD.status = 'visible' OR NEW.status = 'visible') \
     AND NOT (OLD.status = 'visible' AND NEW.status = 'visible' AND OLD.body = NEW.body)";
const ARTICLE_SEEN: &str = "(OLD.closed_at IS NULL) <> (NEW.closed_at IS NULL)";
const ARTICLE_KIND: &str = "CASE WHEN NEW.closed_at IS NULL THEN 'reopened' ELSE 'closed' END";

fn sqlite_up() -> Vec<String> {
    vec![
        "CREATE TRIGGER live_comment_created AFTER INSERT ON comments WHEN NEW.status = 'visible'
         BEGIN
           INSERT INTO live_events (article_id, kind, comment_id) VALUES (NEW.article_id, 'created', NEW.id);
         END"
        .to_owned(),
        format!(
            "CREATE TRIGGER live_comment_changed AFTER UPDATE OF status, body ON comments WHEN {COMMENT_SEEN}
             BEGIN
               INSERT INTO live_events (article_id, kind, comment_id) VALUES (NEW.article_id, {COMMENT_KIND}, NEW.id);
             END"
        ),
        format!(
            "CREATE TRIGGER live_article_closure AFTER UPDATE OF closed_at ON articles WHEN {ARTICLE_SEEN}
             BEGIN
               INSERT INTO live_events (article_id, kind) VALUES (NEW.id, {ARTICLE_KIND});
             END"
        ),
    ]
}

fn postgres_up() -> Vec<String> {
    vec![
        format!(
            "CREATE FUNCTION live_comment_events() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF TG_OP = 'INSERT' THEN
                 IF NEW.status = 'visible' THEN
                   INSERT INTO live_events (article_id, kind, comment_id) VALUES (NEW.article_id, 'created', NEW.id);
                   PERFORM pg_notify('live_events', '');
                 END IF;
               ELSIF {COMMENT_SEEN} THEN
                 INSERT INTO live_events (article_id, kind, comment_id) VALUES (NEW.article_id, {COMMENT_KIND}, NEW.id);
                 PERFORM pg_notify('live_events', '');
               END IF;
               RETURN NULL;
             END $$"
        ),
        "CREATE TRIGGER live_comment_events AFTER INSERT OR UPDATE OF status, body ON comments
         FOR EACH ROW EXECUTE FUNCTION live_comment_events()"
            .to_owned(),
        format!(
            "CREATE FUNCTION live_article_events() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF {ARTICLE_SEEN} THEN
                 INSERT INTO live_events (article_id, kind) VALUES (NEW.id, {ARTICLE_KIND});
                 PERFORM pg_notify('live_events', '');
               END IF;
               RETURN NULL;
             END $$"
        ),
        "CREATE TRIGGER live_article_events AFTER UPDATE OF closed_at ON articles
         FOR EACH ROW EXECUTE FUNCTION live_article_events()"
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("live_events")
                .col(big_pk_auto("id"))
                .col(text("article_id"))
                .col(text("kind"))
                .col(big_integer_null("comment_id")),
        )
        .await?;
        create_index(
            manager,
            "idx_live_events_article",
            "live_events",
            &["article_id", "id"],
        )
        .await?;
        execute_by_backend(manager, &postgres_up(), &sqlite_up()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                "DROP TRIGGER live_comment_events ON comments",
                "DROP FUNCTION live_comment_events()",
                "DROP TRIGGER live_article_events ON articles",
                "DROP FUNCTION live_article_events()",
            ],
            &[
                "DROP TRIGGER live_comment_created",
                "DROP TRIGGER live_comment_changed",
                "DROP TRIGGER live_article_closure",
            ],
        )
        .await?;
        drop_tables(manager, &["live_events"]).await
    }
}
