//! send-reminders: two hours before an undecided notice of illegal content is due, one reminder
//! goes to the community team, into the comment's email thread.
//!
//! The comments due for a reminder are claimed in one statement (`reminded` flips from false to
//! true), and their reminders are queued in the same transaction: a comment is reminded once,
//! even with several replicas running the job at once (PostgreSQL makes the second claim wait for
//! the first and then find the row already claimed), and never once its notice was decided (a
//! decision clears the deadline).

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use super::RunOutcome;
use crate::config::Settings;
use crate::db::stmt;
use crate::domain::states::NotificationKind;
use crate::store::{articles, comments};

/// How long before the deadline the reminder goes out.
pub const BEFORE_DEADLINE: Duration = Duration::hours(2);

/// One run at `now`: the number of reminders queued.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<RunOutcome, DbErr> {
    let txn = db.begin().await?;
    let rows = txn
        .query_all_raw(stmt(
            &txn,
            "UPDATE comments SET reminded = $1 \
             WHERE due_at IS NOT NULL AND due_at <= $2 AND reminded = $3 RETURNING id",
            [true.into(), (now + BEFORE_DEADLINE).into(), false.into()],
        ))
        .await?;
    let mut queued = 0;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let Some(comment) = comments::find(&txn, id).await? else {
            continue;
        };
        let Some(article) = articles::find(&txn, &comment.article_id).await? else {
            continue;
        };
        crate::notifications::queue(
            &txn,
            settings,
            NotificationKind::Reminder,
            &comment,
            &article,
            now,
        )
        .await?;
        queued += 1;
    }
    txn.commit().await?;
    if queued > 0 {
        tracing::info!(reminders = queued, "reminders of notices due soon queued");
    }
    Ok(RunOutcome::Done(queued))
}
