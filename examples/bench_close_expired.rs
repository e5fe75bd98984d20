//! Benchmark of the close-expired job: N due discussions (and N/10 open ones), one run timed,
//! then a second run with none due.
//!
//! `DATABASE_URL=sqlite://target/bench/close.db?mode=rwc cargo run --release --example bench_close_expired -- 1000000`
//! (use an empty database: the example creates the rows it needs).

use std::time::Instant;

use chrono::Utc;
use comment_service::config::Settings;
use comment_service::events::Events;
use comment_service::jobs::{RunOutcome, close_expired};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let settings = Settings::from_env()?;
    let db = comment_service::db::connect(&settings).await?;
    comment_service::db::migrate(&db).await?;
    let backend = db.get_database_backend();
    let (past, future, series) = match backend {
        DbBackend::Postgres => (
            "'2020-07-01T00:00:00Z'::timestamptz",
            "'2099-01-01T00:00:00Z'::timestamptz",
            format!("SELECT g FROM generate_series(1, {n}) AS g"),
        ),
        _ => (
            "'2020-07-01T00:00:00+00:00'",
            "'2099-01-01T00:00:00+00:00'",
            format!(
                "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s"
            ),
        ),
    };
    let insert = |prefix: &str, closes: &str, count_filter: &str| {
        format!(
            "INSERT INTO articles (id, title, url, published_at, closes_at, comment_count, created_at, updated_at) \
             SELECT '{prefix}' || g, 'T', 'https://x.at/' || g, {past}, {closes}, 0, {past}, {past} \
             FROM ({series}) AS numbers WHERE {count_filter}"
        )
    };
    let started = Instant::now();
    db.execute_raw(Statement::from_string(
        backend,
        insert("due-", past, "1 = 1"),
    ))
    .await?;
    db.execute_raw(Statement::from_string(
        backend,
        insert("open-", future, "g % 10 = 0"),
    ))
    .await?;
    let setup = started.elapsed();

    let started = Instant::now();
    let first = close_expired::run(&db, Utc::now(), Events::new(false)).await?;
    let first_time = started.elapsed();
    // Then the steady state: runs with none due (the median of five).
    // Before measuring the steady state, let the database catch up as its maintenance would:
    // statistics that know the due rows are gone, and (PostgreSQL) the dead index entries vacuumed.
    let maintenance = Instant::now();
    match backend {
        DbBackend::Postgres => db.execute_unprepared("VACUUM ANALYZE articles").await?,
        _ => db.execute_unprepared("ANALYZE").await?,
    };
    let maintenance = maintenance.elapsed();
    let mut times = Vec::new();
    let mut second = RunOutcome::Done(0);
    for _ in 0..5 {
        let started = Instant::now();
        second = close_expired::run(&db, Utc::now(), Events::new(false)).await?;
        times.push(started.elapsed());
    }
    let after_big = times[0];
    times.sort();
    let second_time = times[2];
    let closed = |o: RunOutcome| match o {
        RunOutcome::Done(n) => n,
        RunOutcome::Busy => 0,
    };
    println!(
        "close-expired on {backend:?}: {} due of {} discussions closed in {:.2} s (setup {:.1} s); \
         then ({:.1} s of ANALYZE/VACUUM) with none due: first run {:.1} ms, median {:.2} ms, closed {}",
        closed(first),
        n + n / 10,
        first_time.as_secs_f64(),
        setup.as_secs_f64(),
        maintenance.as_secs_f64(),
        after_big.as_secs_f64() * 1000.0,
        second_time.as_secs_f64() * 1000.0,
        closed(second)
    );
    Ok(())
}
