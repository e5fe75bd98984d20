//! Flags: one open flag per reader and comment; counters and the summary moderators see.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter,
};

use crate::db::stmt;
use crate::domain::states::{Category, FlagReason, HoldReason};
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

/// What a comment's open flags add up to, read before a decision resolves them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Open {
    pub count: i64,
    /// The first of them.
    pub first_at: Option<DateTime<Utc>>,
    /// The first notice of illegal content among them.
    pub first_notice_at: Option<DateTime<Utc>>,
}

/// The count and first times of a comment's open flags, in one aggregate (however many there are).
pub async fn open_of(db: &impl ConnectionTrait, comment_id: i64) -> Result<Open, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT COUNT(*) AS n, MIN(created_at) AS first_at, \
             MIN(CASE WHEN reason = $1 THEN created_at END) AS first_notice_at \
             FROM flags WHERE comment_id = $2 AND resolved_at IS NULL",
            [FlagReason::Illegal.as_str().into(), comment_id.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(Open::default());
    };
    Ok(Open {
        count: row.try_get("", "n")?,
        first_at: row.try_get("", "first_at")?,
        first_notice_at: row.try_get("", "first_notice_at")?,
    })
}

/// Resolves a comment's open flags with the decision that resolved them (what their reporters
/// are told), in one statement whatever their number, and starts the comment's count again;
/// returns the ids of the flags that were open, in order.
pub async fn resolve(
    db: &impl ConnectionTrait,
    comment_id: i64,
    decision_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "UPDATE flags SET resolved_at = $1, decision_id = $2 \
             WHERE comment_id = $3 AND resolved_at IS NULL RETURNING id",
            [now.into(), decision_id.into(), comment_id.into()],
        ))
        .await?;
    let mut resolved = rows
        .iter()
        .map(|row| row.try_get::<i64>("", "id"))
        .collect::<Result<Vec<i64>, DbErr>>()?;
    resolved.sort_unstable();
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

/// How many of the newest reporters' notes a summary carries (with the count of all of them).
pub const NOTES_SHOWN: usize = 20;

/// What moderators see of a comment's open flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlagSummary {
    pub total: u32,
    /// Reason code → count, in the order of `FlagReason::ALL`.
    pub by_reason: BTreeMap<FlagReason, u32>,
    /// The newest [`NOTES_SHOWN`] notes, oldest first.
    pub notes: Vec<String>,
    /// How many of the open flags carry a note.
    pub note_count: u32,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
}

impl FlagSummary {
    /// Reasons with counts, most frequent first.
    pub fn reasons_by_count(&self) -> Vec<(FlagReason, u32)> {
        let mut reasons: Vec<(FlagReason, u32)> =
            self.by_reason.iter().map(|(r, n)| (*r, *n)).collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        reasons
    }
}

/// The category a decision on a comment most likely names: from its most frequent open flag
/// reason, else from why the content rules held it.
pub fn suggested_category(
    summary: &FlagSummary,
    detections: &[crate::moderation::Detection],
) -> Category {
    let from_flags = summary
        .reasons_by_count()
        .first()
        .map(|(reason, _)| match reason {
            FlagReason::Spam => Category::Spam,
            FlagReason::Abuse => Category::Insult,
            FlagReason::OffTopic => Category::OffTopic,
            FlagReason::Misinformation => Category::Misinformation,
            FlagReason::Illegal | FlagReason::Other => Category::Other,
        });
    let from_rules = detections.first().map(|d| match d.rule {
        HoldReason::Links => Category::Spam,
        HoldReason::SuspectWord => Category::Insult,
        _ => Category::Other,
    });
    from_flags.or(from_rules).unwrap_or(Category::Other)
}

/// `$1, $2, …` for `n` values.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The open-flag summaries of many comments (a queue page) in two statements: the counts per
/// reason, and the newest notes per comment; their cost does not grow with a comment's flags.
pub async fn summaries(
    db: &impl ConnectionTrait,
    comment_ids: &[i64],
) -> Result<HashMap<i64, FlagSummary>, DbErr> {
    let mut out: HashMap<i64, FlagSummary> = HashMap::new();
    if comment_ids.is_empty() {
        return Ok(out);
    }
    let ids = || comment_ids.iter().map(|id| (*id).into());
    let list = placeholders(comment_ids.len());
    let counts = db
        .query_all_raw(stmt(
            db,
            &format!(
                "SELECT comment_id, reason, COUNT(*) AS n, COUNT(note) AS notes, \
                 MIN(created_at) AS first_at, MAX(created_at) AS last_at FROM flags \
                 WHERE comment_id IN ({list}) AND resolved_at IS NULL GROUP BY comment_id, reason"
            ),
            ids(),
        ))
        .await?;
    for row in &counts {
        let reason: String = row.try_get("", "reason")?;
        let reason: FlagReason = reason
            .parse()
            .map_err(|e: crate::domain::states::UnknownValue| DbErr::Type(e.to_string()))?;
        let n = u32::try_from(row.try_get::<i64>("", "n")?).unwrap_or(u32::MAX);
        let notes = u32::try_from(row.try_get::<i64>("", "notes")?).unwrap_or(u32::MAX);
        let first_at: DateTime<Utc> = row.try_get("", "first_at")?;
        let last_at: DateTime<Utc> = row.try_get("", "last_at")?;
        let s = out.entry(row.try_get("", "comment_id")?).or_default();
        s.total = s.total.saturating_add(n);
        s.note_count = s.note_count.saturating_add(notes);
        *s.by_reason.entry(reason).or_insert(0) += n;
        s.first_at = Some(s.first_at.map_or(first_at, |t| t.min(first_at)));
        s.last_at = Some(s.last_at.map_or(last_at, |t| t.max(last_at)));
    }
    let notes = db
        .query_all_raw(stmt(
            db,
            &format!(
                "SELECT comment_id, note FROM (SELECT comment_id, note, id, ROW_NUMBER() OVER \
                 (PARTITION BY comment_id ORDER BY id DESC) AS nth FROM flags \
                 WHERE comment_id IN ({list}) AND resolved_at IS NULL AND note IS NOT NULL) newest \
                 WHERE nth <= {NOTES_SHOWN} ORDER BY comment_id, id"
            ),
            ids(),
        ))
        .await?;
    for row in &notes {
        let note: String = row.try_get("", "note")?;
        out.entry(row.try_get("", "comment_id")?)
            .or_default()
            .notes
            .push(note);
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
