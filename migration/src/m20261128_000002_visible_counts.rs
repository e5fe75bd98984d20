//! The database keeps each article's `comment_count` and each comment's `reply_count` (visible
//! comments only) in step with every insert and status change, in the same statement: one round
//! trip per new comment instead of a transaction of four.

use sea_orm_migration::prelude::*;

use crate::util::execute_by_backend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Counts `delta` (a SQL expression) on the new comment's article row.
pub(crate) fn on_article_row(delta: &str) -> String {
    format!(
        "UPDATE articles SET comment_count = comment_count + {delta} WHERE id = NEW.article_id;"
    )
}

/// SQLite's two triggers, with `count(delta)` the statement that counts `delta` on the article.
/// (`IF NOT EXISTS`: see migration 000013, which writes them again.)
pub(crate) fn sqlite_triggers(count: impl Fn(&str) -> String) -> [String; 2] {
    let status_delta = "CASE WHEN NEW.status = 'visible' THEN 1 ELSE -1 END";
    [
        format!(
            "CREATE TRIGGER IF NOT EXISTS comments_counts_after_insert AFTER INSERT ON comments WHEN NEW.status = 'visible'
             BEGIN
               {}
               UPDATE comments SET reply_count = reply_count + 1 WHERE NEW.parent_id IS NOT NULL AND id = NEW.parent_id;
             END",
            count("1")
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS comments_counts_after_status AFTER UPDATE OF status ON comments
             WHEN (OLD.status = 'visible') <> (NEW.status = 'visible')
             BEGIN
               {}
               UPDATE comments SET reply_count = reply_count + {status_delta}
                 WHERE NEW.parent_id IS NOT NULL AND id = NEW.parent_id;
             END",
            count(status_delta)
        ),
    ]
}

/// PostgreSQL's trigger function, with `count` the statement that counts `delta` on the article.
pub(crate) fn postgres_function(count: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION comments_visible_counts() RETURNS trigger LANGUAGE plpgsql AS $$
         DECLARE delta integer := 0;
         BEGIN
           IF TG_OP = 'INSERT' THEN
             IF NEW.status = 'visible' THEN delta := 1; END IF;
           ELSIF (OLD.status = 'visible') <> (NEW.status = 'visible') THEN
             delta := CASE WHEN NEW.status = 'visible' THEN 1 ELSE -1 END;
           END IF;
           IF delta <> 0 THEN
             {count}
             IF NEW.parent_id IS NOT NULL THEN
               UPDATE comments SET reply_count = reply_count + delta WHERE id = NEW.parent_id;
             END IF;
           END IF;
           RETURN NULL;
         END $$"
    )
}

const POSTGRES_TRIGGER: &str =
    "CREATE TRIGGER comments_visible_counts AFTER INSERT OR UPDATE OF status ON comments
     FOR EACH ROW EXECUTE FUNCTION comments_visible_counts()";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                postgres_function(&on_article_row("delta")),
                POSTGRES_TRIGGER.to_owned(),
            ],
            &sqlite_triggers(on_article_row),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                "DROP TRIGGER comments_visible_counts ON comments",
                "DROP FUNCTION comments_visible_counts()",
            ],
            &[
                "DROP TRIGGER comments_counts_after_insert",
                "DROP TRIGGER comments_counts_after_status",
            ],
        )
        .await
    }
}
