//! Flags: one open flag per reader and comment; counters and the summary moderators see.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::db::stmt;
use crate::domain::states::FlagReason;
use crate::entity::flag;

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<flag::Model>, DbErr> {
    flag::Entity::find_by_id(id).one(db).await
}

/// The open flag of a reporter on a comment, if any.
pub async fn open_flag_of(
    db: &impl ConnectionTrait,
    comment_id: i64,
    reporter_id: &str,
) -> Result<Option<flag::Model>, DbErr> {
    flag::Entity::find()
        .filter(flag::Column::CommentId.eq(comment_id))
        .filter(flag::Column::ReporterId.eq(reporter_id))
        .filter(flag::Column::ResolvedAt.is_null())
        .one(db)
        .await
}

pub struct NewFlag<'a> {
    pub comment_id: i64,
    pub reporter_id: &'a str,
    pub reason: FlagReason,
    pub note: Option<&'a str>,
    pub reporter_email: Option<&'a str>,
    pub legal_reference: Option<&'a str>,
}

/// Inserts a flag and counts it on the comment; returns the flag and the comment's new number of
/// unresolved flags. Run it in a transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewFlag<'_>,
    now: DateTime<Utc>,
) -> Result<(flag::Model, i64), DbErr> {
    let created = flag::ActiveModel {
        id: NotSet,
        comment_id: Set(new.comment_id),
        reporter_id: Set(new.reporter_id.to_string()),
        reason: Set(new.reason),
        note: Set(new.note.map(str::to_string)),
        created_at: Set(now),
        resolved_at: Set(None),
        reporter_email: Set(new.reporter_email.map(str::to_string)),
        legal_reference: Set(new.legal_reference.map(str::to_string)),
        decision_id: Set(None),
    }
    .insert(db)
    .await?;
    let row = db
        .query_one_raw(stmt(
            db,
            "UPDATE comments SET flag_count = flag_count + 1, first_flag_at = COALESCE(first_flag_at, $1) \
             WHERE id = $2 RETURNING flag_count",
            [now.into(), new.comment_id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("comment {}", new.comment_id)))?;
    let count: i64 = row.try_get("", "flag_count")?;
    Ok((created, count))
}

/// A flag a decision resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub id: i64,
    pub reason: FlagReason,
    pub created_at: DateTime<Utc>,
}

/// Resolves a comment's open flags (a moderator decided); returns the flags that were open.
pub async fn resolve(
    db: &impl ConnectionTrait,
    comment_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Resolved>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "UPDATE flags SET resolved_at = $1 WHERE comment_id = $2 AND resolved_at IS NULL \
             RETURNING id, reason, created_at",
            [now.into(), comment_id.into()],
        ))
        .await?;
    let mut resolved = Vec::with_capacity(rows.len());
    for row in &rows {
        let reason: String = row.try_get("", "reason")?;
        resolved.push(Resolved {
            id: row.try_get("", "id")?,
            reason: reason
                .parse()
                .map_err(|e: crate::domain::states::UnknownValue| DbErr::Type(e.to_string()))?,
            created_at: row.try_get("", "created_at")?,
        });
    }
    resolved.sort_by_key(|f| f.id);
    db.execute_raw(stmt(
        db,
        "UPDATE comments SET flag_count = 0, first_flag_at = NULL WHERE id = $1",
        [comment_id.into()],
    ))
    .await?;
    Ok(resolved)
}

/// Starts the deadline of a comment's notice of illegal content, unless one is running; true
/// when this call started it.
pub async fn start_deadline(
    db: &impl ConnectionTrait,
    comment_id: i64,
    due_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changed = crate::db::execute(
        db,
        "UPDATE comments SET due_at = $1, reminded = $2 WHERE id = $3 AND due_at IS NULL",
        [due_at.into(), false.into(), comment_id.into()],
    )
    .await?;
    Ok(changed > 0)
}

/// Records which decision resolved these flags (what their reporters are told).
pub async fn set_decision(
    db: &impl ConnectionTrait,
    flag_ids: &[i64],
    decision_id: i64,
) -> Result<(), DbErr> {
    if flag_ids.is_empty() {
        return Ok(());
    }
    flag::Entity::update_many()
        .col_expr(
            flag::Column::DecisionId,
            sea_orm::sea_query::Expr::value(decision_id),
        )
        .filter(flag::Column::Id.is_in(flag_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// What moderators see of a comment's open flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSummary {
    pub total: u32,
    /// Reason code → count, in the order of `FlagReason::ALL`.
    pub by_reason: BTreeMap<FlagReason, u32>,
    pub notes: Vec<String>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

impl FlagSummary {
    fn add(&mut self, f: &flag::Model) {
        self.total += 1;
        *self.by_reason.entry(f.reason).or_insert(0) += 1;
        if let Some(note) = &f.note {
            self.notes.push(note.clone());
        }
        self.first_at = Some(self.first_at.map_or(f.created_at, |t| t.min(f.created_at)));
        self.last_at = Some(self.last_at.map_or(f.created_at, |t| t.max(f.created_at)));
    }

    /// Reasons with counts, most frequent first.
    pub fn reasons_by_count(&self) -> Vec<(FlagReason, u32)> {
        let mut reasons: Vec<(FlagReason, u32)> =
            self.by_reason.iter().map(|(r, n)| (*r, *n)).collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        reasons
    }
}

/// The open-flag summaries of many comments in one query.
pub async fn summaries(
    db: &impl ConnectionTrait,
    comment_ids: &[i64],
) -> Result<HashMap<i64, FlagSummary>, DbErr> {
    let mut out: HashMap<i64, FlagSummary> = HashMap::new();
    if comment_ids.is_empty() {
        return Ok(out);
    }
    let rows = flag::Entity::find()
        .filter(flag::Column::CommentId.is_in(comment_ids.iter().copied()))
        .filter(flag::Column::ResolvedAt.is_null())
        .order_by_asc(flag::Column::Id)
        .all(db)
        .await?;
    for f in &rows {
        out.entry(f.comment_id).or_default().add(f);
    }
    Ok(out)
}

/// Deletes the flags resolved before `cutoff` (retention); returns how many.
pub async fn purge_resolved(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    crate::db::execute(
        db,
        "DELETE FROM flags WHERE id IN (SELECT id FROM flags \
         WHERE resolved_at IS NOT NULL AND resolved_at < $1 LIMIT $2)",
        [cutoff.into(), (batch as i64).into()],
    )
    .await
}
