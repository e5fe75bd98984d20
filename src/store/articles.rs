//! Articles and the state of their discussion.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::Inserted;
use crate::db::stmt;
use crate::domain::states::{ArticleLinkPolicy, ClosedReason};
use crate::entity::{article, author};

/// An article's comment count: the count folded into its row plus what the database counted
/// since on the article's shards (migration 000013: posts to one article never wait for one
/// row). An expression over `articles`.
pub const COMMENT_COUNT: &str = "(articles.comment_count + COALESCE((SELECT CAST(SUM(s.n) AS BIGINT) \
     FROM article_comment_counts s WHERE s.article_id = articles.id), 0))";

/// Every read of articles: the row, with its comment count.
fn select() -> Select<article::Entity> {
    use article::Column as C;
    article::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::Title,
            C::Url,
            C::Topic,
            C::PublishedAt,
            C::ClosesAt,
            C::ClosedAt,
            C::ClosedReason,
            C::CreatedAt,
            C::UpdatedAt,
            C::Premod,
            C::LinkPolicy,
            C::SettingsMessage,
        ])
        .column_as(Expr::cust(COMMENT_COUNT), "comment_count")
}

/// What a new comment needs to know before its write transaction, in one round trip: its
/// article (without the comment count, which a post does not show) and, when there is one, the
/// author's record. `None` when there is no such article.
pub async fn find_for_post(
    db: &impl ConnectionTrait,
    article_id: &str,
    author_id: &str,
) -> Result<Option<(article::Model, Option<author::Model>)>, DbErr> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sea_orm::{IdenStatic as _, Iterable as _};
        let article_columns: Vec<String> = article::Column::iter()
            .map(|c| match c {
                article::Column::CommentCount => "CAST(0 AS BIGINT) AS comment_count".to_string(),
                c => format!("articles.{}", c.as_str()),
            })
            .collect();
        let author_columns: Vec<String> = author::Column::iter()
            .map(|c| format!("authors.{0} AS au_{0}", c.as_str()))
            .collect();
        format!(
            "SELECT {}, {} FROM articles LEFT JOIN authors ON authors.id = $2 WHERE articles.id = $1",
            article_columns.join(", "),
            author_columns.join(", ")
        )
    });
    let Some(row) = db
        .query_one_raw(stmt(db, &SQL, [article_id.into(), author_id.into()]))
        .await?
    else {
        return Ok(None);
    };
    let article = article::Model::from_query_result(&row, "")?;
    let author = match row.try_get::<Option<String>>("au_", "id")? {
        Some(_) => Some(author::Model::from_query_result(&row, "au_")?),
        None => None,
    };
    Ok(Some((article, author)))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<article::Model>, DbErr> {
    select().filter(article::Column::Id.eq(id)).one(db).await
}

/// The articles among `ids` that exist, in no particular order (one statement for any number
/// of ids: see [`crate::db::one_of`]).
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<article::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    select()
        .filter(crate::db::one_of(
            db.get_database_backend(),
            "articles.id",
            ids,
        )?)
        .all(db)
        .await
}

/// What the website says about an article.
pub struct ArticleInput {
    pub id: String,
    pub title: String,
    pub url: String,
    pub topic: Option<String>,
    pub published_at: DateTime<Utc>,
    /// `published_at` plus the age limit, computed by the caller.
    pub closes_at: DateTime<Utc>,
}

/// Registers or updates an article; `true` when it was created.
///
/// A changed `published_at` moves `closes_at` by the age rule, and a recorded expiry that no
/// longer holds is lifted (the close-expired job records it again when due). A moderator's
/// decisions (closure, a reopened `closes_at`) are kept while `published_at` stays the same.
pub async fn upsert(
    db: &impl ConnectionTrait,
    input: ArticleInput,
    now: DateTime<Utc>,
) -> Result<(article::Model, bool), DbErr> {
    if let Some(existing) = find(db, &input.id).await? {
        return Ok((update(db, existing, input, now).await?, false));
    }
    let inserted = article::ActiveModel {
        id: Set(input.id.clone()),
        title: Set(input.title.clone()),
        url: Set(input.url.clone()),
        topic: Set(input.topic.clone()),
        published_at: Set(input.published_at),
        closes_at: Set(input.closes_at),
        closed_at: Set(None),
        closed_reason: Set(None),
        comment_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        premod: Set(false),
        link_policy: Set(ArticleLinkPolicy::Inherit),
        settings_message: Set(None),
    }
    .insert(db)
    .await;
    let id = input.id.clone();
    match super::created_or_existing(inserted, find(db, &id)).await? {
        Inserted::Created(created) => Ok((created, true)),
        Inserted::Existing(existing) => Ok((update(db, existing, input, now).await?, false)),
    }
}

async fn update(
    db: &impl ConnectionTrait,
    existing: article::Model,
    input: ArticleInput,
    now: DateTime<Utc>,
) -> Result<article::Model, DbErr> {
    let published_changed = existing.published_at != input.published_at;
    let expired = existing.closed_reason == Some(ClosedReason::Expired);
    let mut active: article::ActiveModel = existing.into();
    active.title = Set(input.title);
    active.url = Set(input.url);
    active.topic = Set(input.topic);
    if published_changed {
        active.published_at = Set(input.published_at);
        active.closes_at = Set(input.closes_at);
        if expired && input.closes_at > now {
            active.closed_at = Set(None);
            active.closed_reason = Set(None);
        }
    }
    active.updated_at = Set(now);
    let updated = active.update(db).await?;
    // The row as written, with its comment count.
    find(db, &updated.id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("article {}", updated.id)))
}

/// The newest articles of a topic whose discussion is open at `now`, newest first.
pub async fn open_in_topic(
    db: &impl ConnectionTrait,
    topic: &str,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<article::Model>, DbErr> {
    select()
        .filter(article::Column::Topic.eq(topic))
        .filter(article::Column::ClosedAt.is_null())
        .filter(article::Column::ClosesAt.gt(now))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Records a moderator's closure. `closed_at` is kept when it is already recorded.
pub async fn close_by_moderator(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    crate::db::execute(
        db,
        "UPDATE articles SET closed_at = $1, closed_reason = $3, updated_at = $1 \
         WHERE id = $2 AND closed_at IS NULL",
        [now.into(), id.into(), ClosedReason::Moderator.into()],
    )
    .await
}

/// Stores the settings of an article's discussion; returns how many rows changed (0: no such
/// article).
pub async fn set_settings(
    db: &impl ConnectionTrait,
    id: &str,
    premod: bool,
    link_policy: ArticleLinkPolicy,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    crate::db::execute(
        db,
        "UPDATE articles SET premod = $1, link_policy = $2, settings_message = $3, updated_at = $4 \
         WHERE id = $5",
        [
            premod.into(),
            link_policy.into(),
            message.into(),
            now.into(),
            id.into(),
        ],
    )
    .await
}

/// Reopens a discussion until `closes_at`.
pub async fn reopen(
    db: &impl ConnectionTrait,
    id: &str,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    crate::db::execute(
        db,
        "UPDATE articles SET closed_at = NULL, closed_reason = NULL, closes_at = $1, updated_at = $2 \
         WHERE id = $3",
        [closes_at.into(), now.into(), id.into()],
    )
    .await
}

/// Records every closure that is due at `now` in one set-based statement; returns the articles.
///
/// Served by the partial index on `closes_at WHERE closed_at IS NULL`, so the statement costs
/// next to nothing when almost no discussion is due. Rows another replica is closing at the same
/// moment are re-checked by PostgreSQL after its lock is released and skipped, so each
/// discussion is closed exactly once.
pub async fn close_expired(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "UPDATE articles SET closed_at = closes_at, closed_reason = $2, updated_at = $1 \
             WHERE closed_at IS NULL AND closes_at <= $1 RETURNING id",
            [now.into(), ClosedReason::Expired.into()],
        ))
        .await?;
    rows.iter().map(|r| r.try_get::<String>("", "id")).collect()
}
