//! Comments: threads, keyset-paginated lists and status changes with their counters.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Value,
};

use crate::db::stmt;
use crate::domain::states::CommentStatus;
use crate::entity::{article, comment};
use crate::store::articles::COMMENT_COUNT;
use crate::store::authors::{self, CommentState, Tally};

/// The order of a list of comments; ids grow with time, so keyset pagination runs on `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Newest,
    Oldest,
}

#[derive(Clone, Debug)]
pub struct NewComment {
    pub article_id: String,
    pub parent_id: Option<i64>,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    /// `visible`, or `pending_review` when the content rules held it.
    pub status: CommentStatus,
    /// Why the rules held it (JSON), if they did.
    pub detections: Option<String>,
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<comment::Model>, DbErr> {
    comment::Entity::find_by_id(id).one(db).await
}

/// Inserts a comment; in the same statement the database counts it on its author (creating the
/// author's record on their first), and a visible one on its article and its parent.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewComment,
    now: DateTime<Utc>,
) -> Result<comment::Model, DbErr> {
    active(new, now).insert(db).await
}

/// Inserts many comments in one statement (each posted at its own instant), counted as
/// [`insert`] counts one; returns them in the order given.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    rows: Vec<(NewComment, DateTime<Utc>)>,
) -> Result<Vec<comment::Model>, DbErr> {
    let count = rows.len();
    let mut created =
        comment::Entity::insert_many(rows.into_iter().map(|(new, at)| active(new, at)))
            .exec_with_returning(db)
            .await?;
    // Ids are drawn in the order the rows are inserted.
    created.sort_by_key(|c| c.id);
    if created.len() != count {
        return Err(DbErr::Custom(format!(
            "inserted {} of {count} comments",
            created.len()
        )));
    }
    Ok(created)
}

fn active(new: NewComment, now: DateTime<Utc>) -> comment::ActiveModel {
    comment::ActiveModel {
        id: NotSet,
        article_id: Set(new.article_id),
        parent_id: Set(new.parent_id),
        author_id: Set(new.author_id),
        author_name: Set(new.author_name),
        body: Set(new.body),
        status: Set(new.status),
        reply_count: Set(0),
        flag_count: Set(0),
        first_flag_at: Set(None),
        created_at: Set(now),
        edited_at: Set(None),
        review_round: Set(0),
        deleted_by_author: Set(false),
        detections: Set(new.detections),
        approved: Set(false),
        due_at: Set(None),
        reminded: Set(false),
        appeal_open: Set(false),
    }
}

/// What a list shows: the public sees visible comments, and the others only as tombstones where
/// they have visible replies; moderators see everything.
fn public_filter(public_only: bool) -> Condition {
    if public_only {
        Condition::any()
            .add(comment::Column::Status.eq(CommentStatus::Visible))
            .add(comment::Column::ReplyCount.gt(0))
    } else {
        Condition::all()
    }
}

/// One page of a comment's replies after the reply `after` (exclusive).
pub async fn replies(
    db: &impl ConnectionTrait,
    parent_id: i64,
    order: Order,
    after: Option<i64>,
    limit: u64,
    public_only: bool,
) -> Result<Vec<comment::Model>, DbErr> {
    let parent = comment::Column::ParentId;
    // On PostgreSQL the parent as a range, not an equality, and first in the order: see
    // `article_page` (otherwise it may walk the primary key past every newer comment). SQLite
    // seeks by the equality.
    let range = db.get_database_backend() == DbBackend::Postgres;
    let query = if range {
        comment::Entity::find()
            .filter(parent.gte(parent_id))
            .filter(parent.lte(parent_id))
    } else {
        comment::Entity::find().filter(parent.eq(parent_id))
    };
    let query = query.filter(public_filter(public_only));
    let query = match (order, after) {
        (Order::Newest, Some(id)) => query.filter(comment::Column::Id.lt(id)),
        (Order::Oldest, Some(id)) => query.filter(comment::Column::Id.gt(id)),
        (_, None) => query,
    };
    let query = match (order, range) {
        (Order::Newest, true) => query.order_by_desc(parent),
        (Order::Oldest, true) => query.order_by_asc(parent),
        (_, false) => query,
    };
    let query = match order {
        Order::Newest => query.order_by_desc(comment::Column::Id),
        Order::Oldest => query.order_by_asc(comment::Column::Id),
    };
    query.limit(limit).all(db).await
}

/// A comment as a list shows it: the fields of a view, without the moderation bookkeeping.
#[derive(Debug, serde::Deserialize)]
pub struct Listed(
    pub i64,
    pub Option<i64>,
    pub String,
    pub String,
    pub String,
    pub CommentStatus,
    pub i64,
    pub i64,
    pub DateTime<Utc>,
    pub Option<DateTime<Utc>>,
    pub Option<String>,
);

/// The columns of [`Listed`], in its order (`c` is the comment).
const LISTED: &str = "c.id, c.parent_id, c.author_id, c.author_name, c.body, c.status, \
     c.reply_count, c.flag_count, c.created_at, c.edited_at, c.detections";

/// An article with one page of its top-level comments.
pub struct ArticlePage {
    pub article: article::Model,
    pub comments: Vec<Listed>,
}

/// Reads an article and one page of its top-level comments after `after` (exclusive) in one
/// statement that returns one row: the database puts the page into a JSON array, so a page
/// costs one round trip and one row instead of one per comment (on SQLite each row crosses from
/// the connection's thread to the request's on its own, which was most of a page's cost).
/// `None` when there is no such article.
pub async fn article_page(
    db: &impl ConnectionTrait,
    article_id: &str,
    order: Order,
    after: Option<i64>,
    limit: u64,
    public_only: bool,
) -> Result<Option<ArticlePage>, DbErr> {
    let from = match order {
        Order::Newest => after.unwrap_or(i64::MAX),
        Order::Oldest => after.unwrap_or(i64::MIN),
    };
    let values: [Value; 4] = [
        article_id.into(),
        (!public_only).into(),
        from.into(),
        (limit as i64).into(),
    ];
    let sql = page_sql(db.get_database_backend(), order);
    let Some(row) = db.query_one_raw(stmt(db, sql, values)).await? else {
        return Ok(None);
    };
    let article = article::Model::from_query_result(&row, "")?;
    let json: String = row.try_get("", "page_comments")?;
    let comments =
        serde_json::from_str(&json).map_err(|e| DbErr::Type(format!("a page of comments: {e}")))?;
    Ok(Some(ArticlePage { article, comments }))
}

/// The statement of [`article_page`], written once per database and order.
fn page_sql(backend: DbBackend, order: Order) -> &'static str {
    static SQL: LazyLock<[String; 4]> = LazyLock::new(|| {
        [
            (DbBackend::Postgres, Order::Newest),
            (DbBackend::Postgres, Order::Oldest),
            (DbBackend::Sqlite, Order::Newest),
            (DbBackend::Sqlite, Order::Oldest),
        ]
        .map(|(backend, order)| write_page_sql(backend, order))
    });
    let index = match (backend, order) {
        (DbBackend::Postgres, Order::Newest) => 0,
        (DbBackend::Postgres, Order::Oldest) => 1,
        (_, Order::Newest) => 2,
        (_, Order::Oldest) => 3,
    };
    &SQL[index]
}

fn write_page_sql(backend: DbBackend, order: Order) -> String {
    let (op, dir) = match order {
        Order::Newest => ("<", "DESC"),
        Order::Oldest => (">", "ASC"),
    };
    // SQLite's planner may take the replies index for `parent_id IS NULL` and walk every
    // top-level comment of every article; the partial index is the one to read.
    let (aggregate, hint) = match backend {
        DbBackend::Postgres => (
            format!(
                "COALESCE(json_agg(json_build_array({LISTED}) ORDER BY c.id {dir}), '[]')::text"
            ),
            "",
        ),
        _ => (
            format!("json_group_array(json_array({LISTED}))"),
            "INDEXED BY idx_comments_top_level",
        ),
    };
    // On PostgreSQL `article_id = $1` would let the planner walk the primary key backwards
    // and filter: fast while the article's comments are the newest, 200 ms and more once an old
    // article's first page lies behind a million newer comments of other articles (seen in the
    // bench). As a range, `article_id` is not a constant to the planner, so only the
    // `(article_id, id)` index gives the order asked for. (SQLite is told the index; there a
    // range would stop it from seeking to the cursor.)
    let (article, order_by) = match backend {
        DbBackend::Postgres => (
            "c.article_id >= $1 AND c.article_id <= $1",
            format!("c.article_id {dir}, c.id {dir}"),
        ),
        _ => ("c.article_id = $1", format!("c.id {dir}")),
    };
    let page = format!(
        "SELECT * FROM comments c {hint} WHERE {article} AND c.parent_id IS NULL \
         AND ($2 OR c.status = 'visible' OR c.reply_count > 0) AND c.id {op} $3 \
         ORDER BY {order_by} LIMIT $4"
    );
    format!(
        "SELECT articles.id, articles.title, articles.url, articles.topic, articles.published_at, \
         articles.closes_at, articles.closed_at, articles.closed_reason, articles.created_at, \
         articles.updated_at, {COMMENT_COUNT} AS comment_count, \
         (SELECT {aggregate} FROM ({page}) c) AS page_comments FROM articles WHERE articles.id = $1"
    )
}

/// Replaces the body of a comment, with the status and detections the content rules gave the
/// new text.
pub async fn edit_body(
    db: &impl ConnectionTrait,
    existing: comment::Model,
    body: String,
    status: CommentStatus,
    detections: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<comment::Model>, DbErr> {
    let to = CommentState {
        status,
        ..CommentState::of(&existing)
    };
    if !change_state(db, &existing, to).await? {
        return Ok(None);
    }
    let mut active: comment::ActiveModel = existing.into();
    active.body = Set(body);
    active.edited_at = Set(Some(now));
    active.status = Set(status);
    if status == CommentStatus::PendingReview {
        active.detections = Set(detections);
    }
    active.update(db).await.map(Some)
}

/// Moves a comment to status `to`; see [`change_state`].
pub async fn change_status(
    db: &impl ConnectionTrait,
    existing: &comment::Model,
    to: CommentStatus,
) -> Result<bool, DbErr> {
    let to = CommentState {
        status: to,
        ..CommentState::of(existing)
    };
    change_state(db, existing, to).await
}

/// Moves a comment from the state it was read in to `to` and counts the change on its author;
/// the database keeps the article's and the parent's counts of visible comments right. Returns
/// false when the comment was no longer in the status it was read in (a concurrent change won).
pub async fn change_state(
    db: &impl ConnectionTrait,
    existing: &comment::Model,
    to: CommentState,
) -> Result<bool, DbErr> {
    let from = CommentState::of(existing);
    if from == to {
        return Ok(true);
    }
    let result = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(to.status))
        .col_expr(comment::Column::Approved, Expr::value(to.approved))
        .col_expr(
            comment::Column::DeletedByAuthor,
            Expr::value(to.deleted_by_author),
        )
        .filter(comment::Column::Id.eq(existing.id))
        .filter(comment::Column::Status.eq(from.status))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(false);
    }
    authors::count(db, &existing.author_id, Tally::change(from, to)).await?;
    Ok(true)
}
