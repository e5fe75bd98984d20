//! A hot story's posts no longer queue behind its article row. Every new visible comment used to
//! add one to `articles.comment_count` in the insert's trigger, so on PostgreSQL the posts to one
//! article took turns on that row's lock until each commit. Now the triggers add to one of
//! `SHARDS` rows of `article_comment_counts` per article, picked by the database session
//! (PostgreSQL: its backend's pid; SQLite, which has one writer, always shard 0), so concurrent
//! posts to one article lock different rows. `articles.comment_count` stays the count folded so
//! far; an article's count is that plus the sum of its shards (`store::articles::COMMENT_COUNT`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261128_000002_visible_counts as visible_counts;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "CREATE TABLE article_comment_counts (
    article_id VARCHAR(128) NOT NULL,
    shard INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (article_id, shard))";

/// Adds `delta` to the article's shard `shard` (a SQL expression).
fn add_to_shard(delta: &str, shard: &str) -> String {
    format!(
        "INSERT INTO article_comment_counts (article_id, shard, n) VALUES (NEW.article_id, {shard}, {delta})
         ON CONFLICT (article_id, shard) DO UPDATE SET n = article_comment_counts.n + excluded.n;"
    )
}

/// `IF NOT EXISTS` (in `sqlite_triggers`): right after the `DROP`s the driver ran a
/// `CREATE TRIGGER` twice (it prepares the statement again when SQLite reports that the schema
/// changed), and the second failed.
fn sqlite_up() -> Vec<String> {
    let mut statements = vec![TABLE.to_string()];
    statements.extend(drop_sqlite_triggers());
    statements.extend(visible_counts::sqlite_triggers(|delta| {
        add_to_shard(delta, "0")
    }));
    statements
}

fn drop_sqlite_triggers() -> [String; 2] {
    [
        "DROP TRIGGER comments_counts_after_insert".into(),
        "DROP TRIGGER comments_counts_after_status".into(),
    ]
}

/// Shards per article on PostgreSQL: more than the pool has connections on two replicas.
const SHARDS: u32 = 32;

fn postgres_up() -> Vec<String> {
    vec![
        TABLE.to_string(),
        visible_counts::postgres_function(&add_to_shard(
            "delta",
            &format!("pg_backend_pid() % {SHARDS}"),
        )),
    ]
}

/// Folds every shard back into `articles.comment_count` (for `down`).
const FOLD: &[&str] = &[
    "UPDATE articles SET comment_count = comment_count + \
     (SELECT SUM(n) FROM article_comment_counts s WHERE s.article_id = articles.id) \
     WHERE id IN (SELECT article_id FROM article_comment_counts)",
    "DROP TABLE article_comment_counts",
];

async fn run(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => run(manager, &postgres_up()).await,
            _ => run(manager, &sqlite_up()).await,
        }
    }

    /// Folds the shards into `articles.comment_count` and brings back migration 000002's
    /// triggers.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut statements: Vec<String> = FOLD.iter().map(|s| (*s).to_owned()).collect();
        match manager.get_database_backend() {
            DbBackend::Postgres => statements.push(visible_counts::postgres_function(
                &visible_counts::on_article_row("delta"),
            )),
            _ => {
                statements.extend(drop_sqlite_triggers());
                statements.extend(visible_counts::sqlite_triggers(
                    visible_counts::on_article_row,
                ));
            }
        }
        run(manager, &statements).await
    }
}
