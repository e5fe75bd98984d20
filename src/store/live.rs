//! The rows of `live_events` (written by the database's triggers, see the migration): what the
//! live streams read, in id order.

use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use crate::db::{execute, stmt};

/// One change readers of a discussion can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRow {
    pub id: i64,
    pub article_id: String,
    /// `created`, `edited`, `removed`, `closed`, `reopened` (or `reactions`).
    pub kind: String,
    pub comment_id: Option<i64>,
}

fn row_of(r: &QueryResult) -> Result<LiveRow, DbErr> {
    Ok(LiveRow {
        id: r.try_get("", "id")?,
        article_id: r.try_get("", "article_id")?,
        kind: r.try_get("", "kind")?,
        comment_id: r.try_get("", "comment_id")?,
    })
}

/// The newest row's id (0 when there is none).
pub async fn newest(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT COALESCE(MAX(id), 0) AS id FROM live_events",
            [],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "id"))
        .transpose()?
        .unwrap_or(0))
}

/// The oldest row kept (`None` when there is none).
pub async fn oldest(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(stmt(db, "SELECT MIN(id) AS id FROM live_events", []))
        .await?;
    Ok(row.and_then(|r| r.try_get::<Option<i64>>("", "id").ok().flatten()))
}

/// Up to `limit` rows after `after`, of every article, oldest first.
pub async fn after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<LiveRow>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT id, article_id, kind, comment_id FROM live_events WHERE id > $1 ORDER BY id LIMIT $2",
            [after.into(), (limit as i64).into()],
        ))
        .await?;
    rows.iter().map(row_of).collect()
}

/// An article's rows after `after` up to `upto`, oldest first (a reconnecting reader's catch-up).
pub async fn of_article(
    db: &impl ConnectionTrait,
    article_id: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<LiveRow>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT id, article_id, kind, comment_id FROM live_events \
             WHERE article_id = $1 AND id > $2 AND id <= $3 ORDER BY id",
            [article_id.into(), after.into(), upto.into()],
        ))
        .await?;
    rows.iter().map(row_of).collect()
}

/// Forgets all but the newest `keep` rows.
pub async fn prune(db: &impl ConnectionTrait, keep: i64) -> Result<u64, DbErr> {
    execute(
        db,
        "DELETE FROM live_events WHERE id <= (SELECT MAX(id) FROM live_events) - $1",
        [keep.into()],
    )
    .await
}
