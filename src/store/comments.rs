//! Comments: threads, keyset-paginated lists and status changes with their counters.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};

use crate::domain::states::CommentStatus;
use crate::entity::comment;
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
    /// The author's labels, as stored (`domain::comment::Badges`).
    pub author_badges: String,
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
        author_badges: Set(new.author_badges),
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
        featured: Set(false),
    }
}

/// Makes the comment an editors' pick (`featured`) or not; `false` when it already was as asked.
pub async fn set_featured(
    db: &impl ConnectionTrait,
    id: i64,
    featured: bool,
) -> Result<bool, DbErr> {
    let updated = comment::Entity::update_many()
        .col_expr(comment::Column::Featured, Expr::value(featured))
        .filter(comment::Column::Id.eq(id))
        .filter(comment::Column::Featured.ne(featured))
        .exec(db)
        .await?;
    Ok(updated.rows_affected > 0)
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

/// Replaces the body of a comment, with the status and detections the content rules gave the
/// new text, if the comment is still in the status it was read in (`existing`): a compare-and-set,
/// so an edit never writes over a concurrent decision (a moderator's hide, the flags' hold, an
/// erasure). Returns None when that decision won; the author's counts follow a changed status.
pub async fn edit_body(
    db: &impl ConnectionTrait,
    existing: comment::Model,
    body: String,
    status: CommentStatus,
    detections: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<comment::Model>, DbErr> {
    let from = CommentState::of(&existing);
    let to = CommentState { status, ..from };
    let held = status == CommentStatus::PendingReview;
    let mut update = comment::Entity::update_many()
        .col_expr(comment::Column::Body, Expr::value(body.clone()))
        .col_expr(comment::Column::EditedAt, Expr::value(now))
        .col_expr(comment::Column::Status, Expr::value(status));
    if held {
        update = update.col_expr(comment::Column::Detections, Expr::value(detections.clone()));
    }
    if !set_if_unchanged(db, update, &existing, from, to).await? {
        return Ok(None);
    }
    Ok(Some(comment::Model {
        body,
        edited_at: Some(now),
        status,
        detections: if held {
            detections
        } else {
            existing.detections.clone()
        },
        ..existing
    }))
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
/// the database keeps the article's and the parent's counts of visible comments right. A
/// compare-and-set: returns false when the comment was no longer in the status it was read in
/// (a concurrent change won), and then changes nothing.
pub async fn change_state(
    db: &impl ConnectionTrait,
    existing: &comment::Model,
    to: CommentState,
) -> Result<bool, DbErr> {
    let from = CommentState::of(existing);
    if from == to {
        return Ok(true);
    }
    let update = comment::Entity::update_many()
        .col_expr(comment::Column::Status, Expr::value(to.status))
        .col_expr(comment::Column::Approved, Expr::value(to.approved))
        .col_expr(
            comment::Column::DeletedByAuthor,
            Expr::value(to.deleted_by_author),
        );
    set_if_unchanged(db, update, existing, from, to).await
}

/// Runs `update` on the comment only while it is still in state `from` (a compare-and-set) and
/// counts the change from `from` to `to` on its author; false when the comment had changed.
async fn set_if_unchanged(
    db: &impl ConnectionTrait,
    update: UpdateMany<comment::Entity>,
    existing: &comment::Model,
    from: CommentState,
    to: CommentState,
) -> Result<bool, DbErr> {
    let result = update
        .filter(comment::Column::Id.eq(existing.id))
        .filter(comment::Column::Status.eq(from.status))
        .filter(comment::Column::DeletedByAuthor.eq(from.deleted_by_author))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(false);
    }
    authors::count(db, &existing.author_id, Tally::change(from, to)).await?;
    Ok(true)
}

/// How many comments of an article are in each status (read on `(article_id, status)`).
pub async fn counts_by_status(
    db: &impl ConnectionTrait,
    article_id: &str,
) -> Result<Vec<(CommentStatus, i64)>, DbErr> {
    comment::Entity::find()
        .select_only()
        .column(comment::Column::Status)
        .column_as(comment::Column::Id.count(), "n")
        .filter(comment::Column::ArticleId.eq(article_id))
        .group_by(comment::Column::Status)
        .into_tuple::<(CommentStatus, i64)>()
        .all(db)
        .await
}
