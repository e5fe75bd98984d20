//! The webhook outbox: events written in the transaction of the change that causes them, claimed
//! row by row under a lease, and marked only by the holder of that lease.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, DbBackend, DbErr,
    EntityTrait,
};

use crate::db::stmt;
use crate::domain::states::{EventStatus, EventType};
use crate::entity::event;

/// An event to send, before it is stored.
pub struct NewEvent {
    pub event_id: String,
    pub event_type: EventType,
    pub stream: String,
    pub payload: String,
}

/// Stores an event; run it in the transaction of the change it tells of.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    new: NewEvent,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    active(new, now).insert(db).await?;
    Ok(())
}

fn active(new: NewEvent, now: DateTime<Utc>) -> event::ActiveModel {
    event::ActiveModel {
        id: NotSet,
        event_id: Set(new.event_id),
        event_type: Set(new.event_type),
        stream: Set(new.stream),
        payload: Set(new.payload),
        status: Set(EventStatus::Pending),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(now),
        lease: Set(None),
        locked_until: Set(None),
        delivered_at: Set(None),
        last_error: Set(None),
    }
}

/// Stores many events in one statement; run it in the transaction of the change.
pub async fn enqueue_many(
    db: &impl ConnectionTrait,
    new: Vec<NewEvent>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if new.is_empty() {
        return Ok(());
    }
    event::Entity::insert_many(new.into_iter().map(|n| active(n, now)))
        .exec(db)
        .await?;
    Ok(())
}

/// The `flag.decided` events of one decision, written by the database.
pub struct FlagsDecided {
    pub comment_id: i64,
    pub decision_id: i64,
    pub stream: String,
    /// The decision as the body shows it (JSON).
    pub decision: String,
    /// `occurred_at` as the body shows it.
    pub occurred_at: String,
}

/// Stores a `flag.decided` event for each flag `decision_id` resolved, in the order of the flags,
/// in one statement: the database draws each event's id once (a materialised table: SQLite
/// would otherwise draw it again for the body) (`evt_` and 22 random hexadecimal
/// digits) and writes its body, `{"type", "id", "occurred_at", "data": {"flag_id",
/// "comment_id", "decision"}}`, as `events::body` does.
pub async fn enqueue_flags_decided(
    db: &impl ConnectionTrait,
    new: FlagsDecided,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let (random_id, object, json) = match db.get_database_backend() {
        DbBackend::Postgres => (
            "'evt_' || substr(replace(CAST(gen_random_uuid() AS text), '-', ''), 1, 22)",
            "json_build_object",
            "CAST($4 AS json)",
        ),
        _ => (
            "'evt_' || lower(hex(randomblob(11)))",
            "json_object",
            "json($4)",
        ),
    };
    let sql = format!(
        "WITH e AS MATERIALIZED (SELECT id, {random_id} AS event_id FROM flags \
                                 WHERE comment_id = $8 AND decision_id = $9) \
         INSERT INTO events (event_id, event_type, stream, payload, status, attempts, created_at, \
                             next_attempt_at) \
         SELECT e.event_id, $1, $2, \
                CAST({object}('type', $1, 'id', e.event_id, 'occurred_at', $3, 'data', \
                     {object}('flag_id', CAST(e.id AS TEXT), 'comment_id', $5, 'decision', {json})) \
                     AS TEXT), \
                $6, 0, $7, $7 \
         FROM e ORDER BY e.id"
    );
    let values = [
        EventType::FlagDecided.as_str().into(),
        new.stream.into(),
        new.occurred_at.into(),
        new.decision.into(),
        new.comment_id.to_string().into(),
        EventStatus::Pending.as_str().into(),
        now.into(),
        new.comment_id.into(),
        new.decision_id.into(),
    ];
    db.execute_raw(stmt(db, &sql, values)).await?;
    Ok(())
}

/// Claims up to `batch` due events under the lease `lease` until `now + for_` (no attempt is
/// counted yet: see [`start_attempt`]). An event is due only
/// when no earlier event of its stream is still pending, so a stream's events go out in order. On
/// PostgreSQL concurrent claimers skip each other's rows; SQLite has one writer at a time.
pub async fn claim(
    db: &impl ConnectionTrait,
    lease: &str,
    now: DateTime<Utc>,
    for_: Duration,
    batch: u64,
) -> Result<Vec<event::Model>, DbErr> {
    let skip_locked = if db.get_database_backend() == DbBackend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE events SET lease = $1, locked_until = $2 \
         WHERE id IN (SELECT e.id FROM events e \
                      WHERE e.status = $3 AND e.next_attempt_at <= $4 \
                        AND (e.locked_until IS NULL OR e.locked_until <= $4) \
                        AND NOT EXISTS (SELECT 1 FROM events p \
                                        WHERE p.stream = e.stream AND p.id < e.id AND p.status = $3) \
                      ORDER BY e.id LIMIT $5{skip_locked}) \
         RETURNING *"
    );
    let values = [
        lease.into(),
        (now + for_).into(),
        EventStatus::Pending.into(),
        now.into(),
        (batch as i64).into(),
    ];
    let mut rows = event::Entity::find()
        .from_raw_sql(stmt(db, &sql, values))
        .all(db)
        .await?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Counts an attempt right before the event is sent, if `lease` still holds it; false when another
/// sender took it over. Only a send counts: events a run claimed but never sent (it stopped, or
/// its claim ran short) keep their attempts.
pub async fn start_attempt(db: &impl ConnectionTrait, id: i64, lease: &str) -> Result<bool, DbErr> {
    let changed = crate::db::execute(
        db,
        "UPDATE events SET attempts = attempts + 1 WHERE id = $1 AND lease = $2",
        [id.into(), lease.into()],
    )
    .await?;
    Ok(changed > 0)
}

/// Marks an event delivered, if `lease` still holds it; false when another sender took it over.
pub async fn mark_delivered(
    db: &impl ConnectionTrait,
    id: i64,
    lease: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    release(db, id, lease, EventStatus::Sent, Some(now), None, None).await
}

/// Records a failed attempt, if `lease` still holds the event: retried at `retry_at`, or `failed`
/// for good when `retry_at` is None.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    id: i64,
    lease: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let status = match retry_at {
        Some(_) => EventStatus::Pending,
        None => EventStatus::Failed,
    };
    release(db, id, lease, status, None, retry_at, Some(error)).await
}

/// Ends `lease` on the event, if it still holds it, with `status` and `last_error`; sets
/// `delivered_at` and `next_attempt_at` where given and keeps them otherwise. False when another
/// sender took the event over.
async fn release(
    db: &impl ConnectionTrait,
    id: i64,
    lease: &str,
    status: EventStatus,
    delivered_at: Option<DateTime<Utc>>,
    next_attempt_at: Option<DateTime<Utc>>,
    error: Option<&str>,
) -> Result<bool, DbErr> {
    let changed = crate::db::execute(
        db,
        "UPDATE events SET status = $1, delivered_at = COALESCE($2, delivered_at), \
         next_attempt_at = COALESCE($3, next_attempt_at), lease = NULL, locked_until = NULL, \
         last_error = $4 WHERE id = $5 AND lease = $6",
        [
            status.into(),
            delivered_at.into(),
            next_attempt_at.into(),
            error.into(),
            id.into(),
            lease.into(),
        ],
    )
    .await?;
    Ok(changed > 0)
}

/// One page of the events, newest first, optionally of one status.
pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<EventStatus>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<event::Model>, DbErr> {
    super::newest_first_of_status::<event::Entity>(
        db,
        event::Column::Status,
        status,
        event::Column::Id,
        before,
        limit,
    )
    .await
}
