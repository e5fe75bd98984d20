//! The transparency report's figures (EU Digital Services Act, Art. 15) for a period
//! `[from, to)`: a handful of set-based queries, each one pass over its table's rows of the
//! period (`GROUP BY` or conditional sums), whatever the number of rows.
//!
//! The median and 90th percentile of the time to a decision follow PostgreSQL's
//! `percentile_cont` (linear interpolation between the two nearest values). PostgreSQL computes
//! them with `percentile_cont` itself; SQLite, which has no ordered-set aggregates, numbers the
//! durations in order with `ROW_NUMBER()` and returns only the (at most four) rows the
//! interpolation needs. Both give the same figures; no durations are read into the process.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Value};

use crate::db::stmt;
use crate::domain::states::{AppealStatus, Category, DecidedAction, FlagReason, Ground, LogAction};

/// The figures of one period.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Flags created in the period, per reason (every reason, zeros included).
    pub flags_by_reason: Vec<(FlagReason, u64)>,
    pub decisions: DecisionCounts,
    /// From the first flag a decision answered to the decision.
    pub time_to_decision: Durations,
    /// From the first notice of illegal content a decision answered to the decision.
    pub time_to_decision_illegal: Durations,
    pub appeals: AppealCounts,
    /// Authors suspended in the period (audit-log entries `author_suspended`).
    pub suspensions: u64,
    /// Authors banned in the period (audit-log entries `author_banned`).
    pub bans: u64,
}

/// Decisions taken in the period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionCounts {
    pub total: u64,
    /// Taken by the content rules (held comments).
    pub automated: u64,
    /// Taken by moderators.
    pub manual: u64,
    /// Per action (every action, zeros included).
    pub by_action: Vec<(DecidedAction, u64)>,
    /// Per ground, of the decisions that name one (every ground, zeros included).
    pub by_ground: Vec<(Ground, u64)>,
    /// Per category, of the decisions that name one (every category, zeros included).
    pub by_category: Vec<(Category, u64)>,
}

/// How long decisions took, in seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    /// How many decisions the figures are about.
    pub decisions: u64,
    /// None without decisions.
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// Appeals of the period by outcome.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppealCounts {
    /// Lodged in the period.
    pub received: u64,
    /// Decided in the period: the decision stands.
    pub upheld: u64,
    /// Decided in the period: the decision was reversed.
    pub reversed: u64,
    /// Lodged before the end of the period and not decided by then.
    pub open: u64,
}

/// The figures of `[from, to)`.
pub async fn report(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Report, DbErr> {
    // Independent queries: on a pool they run side by side.
    let (flags_by_reason, decisions, (time_to_decision, time_to_decision_illegal), appeals, blocks) =
        futures_util::try_join!(
            flags_by_reason(db, from, to),
            decisions(db, from, to),
            durations(db, from, to),
            appeals(db, from, to),
            author_blocks(db, from, to),
        )?;
    let (suspensions, bans) = blocks;
    Ok(Report {
        flags_by_reason,
        decisions,
        time_to_decision,
        time_to_decision_illegal,
        appeals,
        suspensions,
        bans,
    })
}

fn period(from: DateTime<Utc>, to: DateTime<Utc>) -> [Value; 2] {
    [from.into(), to.into()]
}

fn count(row: &QueryResult, column: &str) -> Result<u64, DbErr> {
    Ok(row.try_get::<i64>("", column)?.max(0) as u64)
}

/// Adds `n` to the entry of the value whose wire name is `raw`; a name the service does not
/// know (none is ever written) is left out rather than failing the report.
fn add<T: std::str::FromStr + PartialEq + Copy>(counts: &mut [(T, u64)], raw: &str, n: u64) {
    match raw.parse::<T>() {
        Ok(value) => {
            if let Some(entry) = counts.iter_mut().find(|(v, _)| *v == value) {
                entry.1 += n;
            }
        }
        Err(_) => tracing::warn!(value = raw, "an unknown value left out of the report"),
    }
}

fn zeros<T: Copy>(all: &[T]) -> Vec<(T, u64)> {
    all.iter().map(|v| (*v, 0)).collect()
}

async fn flags_by_reason(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(FlagReason, u64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT reason, COUNT(*) AS n FROM flags \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY reason",
            period(from, to),
        ))
        .await?;
    let mut counts = zeros(FlagReason::ALL);
    for row in &rows {
        add(
            &mut counts,
            &row.try_get::<String>("", "reason")?,
            count(row, "n")?,
        );
    }
    Ok(counts)
}

async fn decisions(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<DecisionCounts, DbErr> {
    // At most actions × grounds × categories × 2 groups, from one pass over the period.
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT action, ground, category, automated, COUNT(*) AS n FROM decisions \
             WHERE decided_at >= $1 AND decided_at < $2 \
             GROUP BY action, ground, category, automated",
            period(from, to),
        ))
        .await?;
    let mut counts = DecisionCounts {
        by_action: zeros(DecidedAction::ALL),
        by_ground: zeros(Ground::ALL),
        by_category: zeros(Category::ALL),
        ..DecisionCounts::default()
    };
    for row in &rows {
        let n = count(row, "n")?;
        counts.total += n;
        if row.try_get::<bool>("", "automated")? {
            counts.automated += n;
        } else {
            counts.manual += n;
        }
        add(
            &mut counts.by_action,
            &row.try_get::<String>("", "action")?,
            n,
        );
        if let Some(ground) = row.try_get::<Option<String>>("", "ground")? {
            add(&mut counts.by_ground, &ground, n);
        }
        if let Some(category) = row.try_get::<Option<String>>("", "category")? {
            add(&mut counts.by_category, &category, n);
        }
    }
    Ok(counts)
}

const MEDIAN: f64 = 0.5;
const P90: f64 = 0.9;

/// The time from the first flag, and from the first notice, to the decisions of the period.
async fn durations(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Durations, Durations), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        return durations_postgres(db, from, to).await;
    }
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT COUNT(first_flag_at) AS flagged, COUNT(first_notice_at) AS notices \
             FROM decisions WHERE decided_at >= $1 AND decided_at < $2",
            period(from, to),
        ))
        .await?;
    let (flagged, notices) = match row {
        Some(row) => (count(&row, "flagged")?, count(&row, "notices")?),
        None => (0, 0),
    };
    Ok((
        durations_sqlite(db, from, to, "first_flag_at", flagged).await?,
        durations_sqlite(db, from, to, "first_notice_at", notices).await?,
    ))
}

async fn durations_postgres(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Durations, Durations), DbErr> {
    // One pass: both ordered-set aggregates over the period's decisions. `date_part` gives the
    // seconds as `float8` directly (`EXTRACT` goes through `numeric`, 40 % slower here).
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT flagged, notices, flag_p[1] AS flag_median, flag_p[2] AS flag_p90, \
                    notice_p[1] AS notice_median, notice_p[2] AS notice_p90 \
             FROM (SELECT COUNT(first_flag_at) AS flagged, COUNT(first_notice_at) AS notices, \
                     percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP \
                       (ORDER BY date_part('epoch', decided_at - first_flag_at)) \
                       FILTER (WHERE first_flag_at IS NOT NULL) AS flag_p, \
                     percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP \
                       (ORDER BY date_part('epoch', decided_at - first_notice_at)) \
                       FILTER (WHERE first_notice_at IS NOT NULL) AS notice_p \
                   FROM decisions WHERE decided_at >= $1 AND decided_at < $2) AS s",
            period(from, to),
        ))
        .await?;
    let Some(row) = row else {
        return Ok((Durations::default(), Durations::default()));
    };
    let durations = |n: &str, median: &str, p90: &str| -> Result<Durations, DbErr> {
        Ok(Durations {
            decisions: count(&row, n)?,
            median_seconds: row.try_get::<Option<f64>>("", median)?,
            p90_seconds: row.try_get::<Option<f64>>("", p90)?,
        })
    };
    Ok((
        durations("flagged", "flag_median", "flag_p90")?,
        durations("notices", "notice_median", "notice_p90")?,
    ))
}

/// Where `percentile_cont(p)` of `n` ordered values falls: the 0-based position of the lower
/// value and the weight of the next one.
fn position(p: f64, n: u64) -> (i64, f64) {
    let at = p * (n - 1) as f64;
    let lower = at.floor();
    (lower as i64, at - lower)
}

/// `percentile_cont(p)` from the values at the positions `position` names.
fn interpolate(p: f64, n: u64, values: &[(i64, f64)]) -> Option<f64> {
    let (lower, weight) = position(p, n);
    let value_at = |i: i64| values.iter().find(|(at, _)| *at == i).map(|(_, v)| *v);
    let low = value_at(lower)?;
    if weight == 0.0 {
        return Some(low);
    }
    let high = value_at(lower + 1)?;
    Some(low + weight * (high - low))
}

/// The median and 90th percentile of `decided_at - {start}` on SQLite: the durations numbered
/// in order, and only the rows at the interpolation's positions returned.
async fn durations_sqlite(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: &'static str,
    n: u64,
) -> Result<Durations, DbErr> {
    if n == 0 {
        return Ok(Durations::default());
    }
    let mut wanted: Vec<Value> = Vec::with_capacity(4);
    for p in [MEDIAN, P90] {
        let (lower, _) = position(p, n);
        wanted.push(lower.into());
        wanted.push((lower + 1).into());
    }
    let sql = format!(
        "SELECT rn, s FROM ( \
           SELECT ROW_NUMBER() OVER (ORDER BY s) - 1 AS rn, s FROM ( \
             SELECT (julianday(decided_at) - julianday({start})) * 86400.0 AS s FROM decisions \
             WHERE decided_at >= $1 AND decided_at < $2 AND {start} IS NOT NULL) AS d \
         ) AS numbered WHERE rn IN ($3, $4, $5, $6)"
    );
    let mut values = period(from, to).to_vec();
    values.extend(wanted);
    let rows = db.query_all_raw(stmt(db, &sql, values)).await?;
    let values = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64>("", "rn")?, r.try_get::<f64>("", "s")?)))
        .collect::<Result<Vec<_>, DbErr>>()?;
    Ok(Durations {
        decisions: n,
        // SQLite's date functions count whole milliseconds.
        median_seconds: interpolate(MEDIAN, n, &values).map(to_millis),
        p90_seconds: interpolate(P90, n, &values).map(to_millis),
    })
}

fn to_millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

async fn appeals(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<AppealCounts, DbErr> {
    let sql = format!(
        "SELECT \
           COALESCE(SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END), 0) AS received, \
           COALESCE(SUM(CASE WHEN status = '{upheld}' AND decided_at >= $1 AND decided_at < $2 \
                        THEN 1 ELSE 0 END), 0) AS upheld, \
           COALESCE(SUM(CASE WHEN status = '{reversed}' AND decided_at >= $1 AND decided_at < $2 \
                        THEN 1 ELSE 0 END), 0) AS reversed, \
           COALESCE(SUM(CASE WHEN decided_at IS NULL OR decided_at >= $2 \
                        THEN 1 ELSE 0 END), 0) AS still_open \
         FROM appeals WHERE created_at < $2",
        upheld = AppealStatus::Upheld,
        reversed = AppealStatus::Reversed,
    );
    let row = db.query_one_raw(stmt(db, &sql, period(from, to))).await?;
    let Some(row) = row else {
        return Ok(AppealCounts::default());
    };
    Ok(AppealCounts {
        received: count(&row, "received")?,
        upheld: count(&row, "upheld")?,
        reversed: count(&row, "reversed")?,
        open: count(&row, "still_open")?,
    })
}

/// Suspensions and bans of authors in the period, from the audit log.
async fn author_blocks(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let sql = format!(
        "SELECT action, COUNT(*) AS n FROM moderation_log \
         WHERE action IN ('{suspended}', '{banned}') AND at >= $1 AND at < $2 GROUP BY action",
        suspended = LogAction::AuthorSuspended,
        banned = LogAction::AuthorBanned,
    );
    let rows = db.query_all_raw(stmt(db, &sql, period(from, to))).await?;
    let mut counts = [
        (LogAction::AuthorSuspended, 0),
        (LogAction::AuthorBanned, 0),
    ];
    for row in &rows {
        add(
            &mut counts,
            &row.try_get::<String>("", "action")?,
            count(row, "n")?,
        );
    }
    Ok((counts[0].1, counts[1].1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_percentile_cont() {
        // 1, 2, 3, 4: median at 1.5 → 2.5; p90 at 2.7 → 3.7.
        let values = [(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0)];
        assert_eq!(interpolate(MEDIAN, 4, &values), Some(2.5));
        assert!((interpolate(P90, 4, &values).unwrap() - 3.7).abs() < 1e-9);
        // One value is every percentile.
        assert_eq!(interpolate(P90, 1, &[(0, 7.0)]), Some(7.0));
        // Five values: the median is the middle one.
        assert_eq!(position(MEDIAN, 5), (2, 0.0));
    }
}
