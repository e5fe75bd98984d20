//! Authors: the record moderation keeps per author id, and its counts, which the write
//! transactions keep up to date as comments come, change state and get flagged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Value};

use crate::db::execute;
use crate::domain::states::{AuthorStatus, CommentStatus};
use crate::entity::{author, comment};

/// What of a comment the author's counts depend on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommentState {
    pub status: CommentStatus,
    pub approved: bool,
    pub deleted_by_author: bool,
}

impl CommentState {
    pub fn of(c: &comment::Model) -> CommentState {
        CommentState {
            status: c.status,
            approved: c.approved,
            deleted_by_author: c.deleted_by_author,
        }
    }
}

/// The author record's counts, or a change to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub comments: i64,
    pub visible: i64,
    pub approved: i64,
    pub hidden: i64,
    pub deleted_by_moderator: i64,
    pub deleted_by_author: i64,
    pub flags_received: i64,
    pub held: i64,
    pub approved_or_visible: i64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.comments += other.comments;
        self.visible += other.visible;
        self.approved += other.approved;
        self.hidden += other.hidden;
        self.deleted_by_moderator += other.deleted_by_moderator;
        self.deleted_by_author += other.deleted_by_author;
        self.flags_received += other.flags_received;
        self.held += other.held;
        self.approved_or_visible += other.approved_or_visible;
    }
}

impl Tally {
    /// What one comment in `state` adds to its author's counts.
    pub fn of(state: CommentState) -> Tally {
        let is = |s: CommentStatus| i64::from(state.status == s);
        let deleted = is(CommentStatus::Deleted);
        Tally {
            comments: 1,
            visible: is(CommentStatus::Visible),
            approved: i64::from(state.approved),
            hidden: is(CommentStatus::Hidden),
            deleted_by_moderator: deleted * i64::from(!state.deleted_by_author),
            deleted_by_author: deleted * i64::from(state.deleted_by_author),
            flags_received: 0,
            held: is(CommentStatus::PendingReview),
            approved_or_visible: i64::from(
                state.approved || state.status == CommentStatus::Visible,
            ),
        }
    }

    /// The change from a comment in `before` to the same comment in `after`.
    pub fn change(before: CommentState, after: CommentState) -> Tally {
        let (a, b) = (Tally::of(after), Tally::of(before));
        Tally {
            comments: 0,
            visible: a.visible - b.visible,
            approved: a.approved - b.approved,
            hidden: a.hidden - b.hidden,
            deleted_by_moderator: a.deleted_by_moderator - b.deleted_by_moderator,
            deleted_by_author: a.deleted_by_author - b.deleted_by_author,
            flags_received: 0,
            held: a.held - b.held,
            approved_or_visible: a.approved_or_visible - b.approved_or_visible,
        }
    }

    /// A new flag on one of the author's comments.
    pub fn flag() -> Tally {
        Tally {
            flags_received: 1,
            ..Tally::default()
        }
    }

    fn columns(&self) -> [(&'static str, i64); 9] {
        [
            ("comments", self.comments),
            ("visible", self.visible),
            ("approved", self.approved),
            ("hidden", self.hidden),
            ("deleted_by_moderator", self.deleted_by_moderator),
            ("deleted_by_author", self.deleted_by_author),
            ("flags_received", self.flags_received),
            ("held", self.held),
            ("approved_or_visible", self.approved_or_visible),
        ]
    }

    /// Comments moderators hid or deleted.
    pub fn removed_by_moderators(&self) -> i64 {
        self.hidden + self.deleted_by_moderator
    }
}

impl From<&author::Model> for Tally {
    fn from(a: &author::Model) -> Tally {
        Tally {
            comments: a.comments,
            visible: a.visible,
            approved: a.approved,
            hidden: a.hidden,
            deleted_by_moderator: a.deleted_by_moderator,
            deleted_by_author: a.deleted_by_author,
            flags_received: a.flags_received,
            held: a.held,
            approved_or_visible: a.approved_or_visible,
        }
    }
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<author::Model>, DbErr> {
    author::Entity::find_by_id(id).one(db).await
}

/// Adds `delta` to the author's counts (in the caller's transaction). An author without a record
/// (a comment from before records existed) has nothing to count.
pub async fn count(db: &impl ConnectionTrait, author_id: &str, delta: Tally) -> Result<(), DbErr> {
    let changed: Vec<(&str, i64)> = delta
        .columns()
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let sets: Vec<String> = changed
        .iter()
        .enumerate()
        .map(|(i, (column, _))| format!("{column} = {column} + ${}", i + 1))
        .collect();
    let mut values: Vec<Value> = changed.iter().map(|(_, d)| (*d).into()).collect();
    values.push(author_id.into());
    let sql = format!(
        "UPDATE authors SET {} WHERE id = ${}",
        sets.join(", "),
        values.len()
    );
    execute(db, &sql, values).await?;
    Ok(())
}

/// Sets an author's status, creating the record for an author id not seen yet (so a known troll
/// can be stopped before posting).
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: &str,
    status: AuthorStatus,
    until: Option<DateTime<Utc>>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO authors (id, name, status, until, reason, first_seen_at) \
         VALUES ($1, '', $2, $3, $4, $5) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, until = excluded.until, \
         reason = excluded.reason",
        [
            id.into(),
            status.as_str().into(),
            until.into(),
            reason.map(str::to_string).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The author's comments since `since` and, of these, the ones moderators hid or deleted
/// (the history rule).
pub async fn history(
    db: &impl ConnectionTrait,
    author_id: &str,
    since: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let row = db
        .query_one_raw(crate::db::stmt(
            db,
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN status IN ($3, $4) AND NOT deleted_by_author THEN 1 ELSE 0 END), 0) AS removed \
             FROM comments WHERE author_id = $1 AND created_at > $2",
            [
                author_id.into(),
                since.into(),
                CommentStatus::Hidden.as_str().into(),
                CommentStatus::Deleted.as_str().into(),
            ],
        ))
        .await?;
    let Some(row) = row else { return Ok((0, 0)) };
    let total: i64 = row.try_get("", "total")?;
    let removed: i64 = row.try_get("", "removed")?;
    Ok((total.max(0) as u64, removed.max(0) as u64))
}

/// When the author's comments since `since` were posted and what they said, newest first (at
/// most `limit`), except the comment `except` (the one being edited): the rate limit and the
/// repeat-post rule read this.
pub async fn recent(
    db: &impl ConnectionTrait,
    author_id: &str,
    since: DateTime<Utc>,
    except: Option<i64>,
    limit: u64,
) -> Result<Vec<(DateTime<Utc>, String)>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut query = comment::Entity::find()
        .select_only()
        .column(comment::Column::CreatedAt)
        .column(comment::Column::Body)
        .filter(comment::Column::AuthorId.eq(author_id))
        .filter(comment::Column::CreatedAt.gt(since));
    if let Some(id) = except {
        query = query.filter(comment::Column::Id.ne(id));
    }
    query
        .order_by_desc(comment::Column::CreatedAt)
        .limit(limit)
        .into_tuple::<(DateTime<Utc>, String)>()
        .all(db)
        .await
}

/// [`recent`] for many authors at once: each author's comments since `since`, newest first.
pub async fn recent_of_many(
    db: &impl ConnectionTrait,
    author_ids: &[&str],
    since: DateTime<Utc>,
) -> Result<HashMap<String, Vec<(DateTime<Utc>, String)>>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    let mut by_author: HashMap<String, Vec<(DateTime<Utc>, String)>> = HashMap::new();
    if author_ids.is_empty() {
        return Ok(by_author);
    }
    let rows = comment::Entity::find()
        .select_only()
        .column(comment::Column::AuthorId)
        .column(comment::Column::CreatedAt)
        .column(comment::Column::Body)
        .filter(crate::db::one_of(
            db.get_database_backend(),
            "comments.author_id",
            author_ids,
        )?)
        .filter(comment::Column::CreatedAt.gt(since))
        .order_by_desc(comment::Column::CreatedAt)
        .into_tuple::<(String, DateTime<Utc>, String)>()
        .all(db)
        .await?;
    for (author, at, body) in rows {
        by_author.entry(author).or_default().push((at, body));
    }
    Ok(by_author)
}

/// One page of the author's comments, newest first, before the comment `before` (exclusive).
pub async fn comments(
    db: &impl ConnectionTrait,
    author_id: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<comment::Model>, DbErr> {
    let query = comment::Entity::find().filter(comment::Column::AuthorId.eq(author_id));
    super::newest_first(db, query, comment::Column::Id, before, limit).await
}
