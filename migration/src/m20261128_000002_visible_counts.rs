//! The database keeps each article's `comment_count` and each comment's `reply_count` (visible
//! comments only) in step with every insert and status change, in the same statement: one round
//! trip per new comment instead of a transaction of four.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER comments_counts_after_insert AFTER INSERT ON comments WHEN NEW.status = 'visible'
     BEGIN
       UPDATE articles SET comment_count = comment_count + 1 WHERE id = NEW.article_id;
       UPDATE comments SET reply_count = reply_count + 1 WHERE NEW.parent_id IS NOT NULL AND id = NEW.parent_id;
     END",
    "CREATE TRIGGER comments_counts_after_status AFTER UPDATE OF status ON comments
     WHEN (OLD.status = 'visible') <> (NEW.status = 'visible')
     BEGIN
       UPDATE articles SET comment_count = comment_count + CASE WHEN NEW.status = 'visible' THEN 1 ELSE -1 END
         WHERE id = NEW.article_id;
       UPDATE comments SET reply_count = reply_count + CASE WHEN NEW.status = 'visible' THEN 1 ELSE -1 END
         WHERE NEW.parent_id IS NOT NULL AND id = NEW.parent_id;
     END",
];

pub(crate) const POSTGRES_UP: &[&str] = &[
    "CREATE FUNCTION comments_visible_counts() RETURNS trigger LANGUAGE plpgsql AS $$
     DECLARE delta integer := 0;
     BEGIN
       IF TG_OP = 'INSERT' THEN
         IF NEW.status = 'visible' THEN delta := 1; END IF;
       ELSIF (OLD.status = 'visible') <> (NEW.status = 'visible') THEN
         delta := CASE WHEN NEW.status = 'visible' THEN 1 ELSE -1 END;
       END IF;
       IF delta <> 0 THEN
         UPDATE articles SET comment_count = comment_count + delta WHERE id = NEW.article_id;
         IF NEW.parent_id IS NOT NULL THEN
           UPDATE comments SET reply_count = reply_count + delta WHERE id = NEW.parent_id;
         END IF;
       END IF;
       RETURN NULL;
     END $$",
    "CREATE TRIGGER comments_visible_counts AFTER INSERT OR UPDATE OF status ON comments
     FOR EACH ROW EXECUTE FUNCTION comments_visible_counts()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        let db = manager.get_connection();
        for sql in statements {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER comments_visible_counts ON comments")
                    .await?;
                db.execute_unprepared("DROP FUNCTION comments_visible_counts()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER comments_counts_after_insert")
                    .await?;
                db.execute_unprepared("DROP TRIGGER comments_counts_after_status")
                    .await?;
            }
        }
        Ok(())
    }
}
