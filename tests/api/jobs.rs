use std::time::Duration;

use chrono::Utc;
use comment_service::config::Settings;
use comment_service::domain::states::{ClosedReason, LogAction, Via};
use comment_service::entity::{article, moderation_log};
use comment_service::events::Events;
use comment_service::jobs::{RunOutcome, close_expired};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, EntityTrait};
use serde_json::json;

use crate::articles::published_for_closing_at;
use crate::helpers::{Db, TestDatabase, assert_error, eventually, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    the_scheduled_job_records_the_closure_after_which_posting_is_refused,
    two_replicas_closing_at_once_close_each_due_discussion_exactly_once,
    a_reopened_discussion_is_not_closed_again_before_its_new_closes_at,
    a_moderator_closes_a_discussion_early_and_the_audit_log_records_it,
);

async fn the_scheduled_job_records_the_closure_after_which_posting_is_refused(db: Db) {
    let app = spawn_app_with(db, &[("CLOSE_EXPIRED_SCHEDULE", "* * * * * *".to_string())]).await;
    let closes_at = app.clock.now() + chrono::Duration::days(3);
    app.put_article(
        "bald",
        None,
        &published_for_closing_at(closes_at).to_rfc3339(),
    )
    .await;
    let (status, _) = app.post_comment("bald", "u1", "Gerade noch").await;
    assert_eq!(status, StatusCode::CREATED);
    let before = article::Entity::find_by_id("bald".to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.closed_at, None);

    // The scheduler runs every second of real time; the job reads the app's clock.
    app.clock.set(closes_at);
    let recorded = eventually("the scheduled job to record the closure", || async {
        let row = article::Entity::find_by_id("bald".to_string())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        row.closed_at.is_some().then_some(row)
    })
    .await;
    assert_eq!(recorded.closed_at, Some(closes_at));
    assert_eq!(recorded.closed_reason, Some(ClosedReason::Expired));
    let (status, err) = app.post_comment("bald", "u2", "Zu spät").await;
    assert_error(status, &err, 403, "discussion_closed");
}

async fn insert_due_articles(db: &impl ConnectionTrait, n: usize) {
    let backend = db.get_database_backend();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('due-{i}', 'T', 'https://x.at/{i}', '2019-01-01T00:00:00Z', '2020-07-01T00:00:00Z', 0, '2019-01-01T00:00:00Z', '2019-01-01T00:00:00Z')"
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO articles (id, title, url, published_at, closes_at, comment_count, created_at, updated_at) VALUES {}",
            values.join(",")
        );
        db.execute_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap();
    }
}

async fn two_replicas_closing_at_once_close_each_due_discussion_exactly_once(db: Db) {
    let app = spawn_app(db).await;
    insert_due_articles(&app.db, 2000).await;
    // A second "replica": its own connection pool to the same database.
    let settings =
        Settings::from_vars([("DATABASE_URL".to_string(), app.database.url.clone())]).unwrap();
    let other = comment_service::db::connect(&settings).await.unwrap();
    let now = Utc::now();
    let (a, b) = tokio::join!(
        close_expired::run(&app.db, now, Events::new(false)),
        close_expired::run(&other, now, Events::new(false))
    );
    let count = |o: RunOutcome| match o {
        RunOutcome::Done(n) => n,
        RunOutcome::Busy => 0,
    };
    assert_eq!(
        count(a.unwrap()) + count(b.unwrap()),
        2000,
        "closures counted exactly once"
    );
    let again = close_expired::run(&app.db, now, Events::new(false))
        .await
        .unwrap();
    assert_eq!(again, RunOutcome::Done(0));
    let open = article::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.closed_at.is_none())
        .count();
    assert_eq!(open, 0);
}

async fn a_reopened_discussion_is_not_closed_again_before_its_new_closes_at(db: Db) {
    let app = spawn_app(db).await;
    app.put_article("alt", None, "2019-04-26T10:51:00+02:00")
        .await;
    let (status, err) = app
        .moderate_discussion("alt", json!({"action": "reopen"}))
        .await;
    assert_error(status, &err, 422, "validation_failed");
    assert!(err["error"]["details"]["fields"]["until"].is_string());
    let (status, err) = app
        .moderate_discussion(
            "alt",
            json!({"action": "reopen", "until": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(status, &err, 422, "validation_failed");

    let until = app.clock.now() + chrono::Duration::hours(1);
    let (status, reopened) = app
        .moderate_discussion(
            "alt",
            json!({"action": "reopen", "until": until.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["discussion"]["status"], "open");
    assert_eq!(
        reopened["discussion"]["closes_at"],
        until.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(
        close_expired::run(&app.db, app.clock.now(), Events::new(false))
            .await
            .unwrap(),
        RunOutcome::Done(0)
    );
    let (status, _) = app.post_comment("alt", "u1", "Wieder offen").await;
    assert_eq!(status, StatusCode::CREATED);
    // At its new closes_at the same rule and job close it again.
    let later = until + chrono::Duration::seconds(1);
    assert_eq!(
        close_expired::run(&app.db, later, Events::new(false))
            .await
            .unwrap(),
        RunOutcome::Done(1)
    );
    let row = article::Entity::find_by_id("alt".to_string())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.closed_at, Some(until));
    assert_eq!(row.closed_reason, Some(ClosedReason::Expired));
    let log = moderation_log::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, LogAction::ReopenDiscussion);
    assert_eq!(log[0].moderator, "anna");
}

async fn a_moderator_closes_a_discussion_early_and_the_audit_log_records_it(db: Db) {
    let app = spawn_app(db).await;
    app.put_recent_article("heiss", None).await;
    let (status, closed) = app
        .moderate_discussion(
            "heiss",
            json!({"action": "close", "reason": "Zu viele Beleidigungen"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let d = &closed["discussion"];
    assert_eq!(d["status"], "closed");
    assert_eq!(d["closed_reason"], "moderator");
    let message = d["notice"]["message"].as_str().unwrap();
    assert!(
        message.contains("Community-Team") && !message.contains("18 Monate"),
        "{message}"
    );
    let (status, err) = app.post_comment("heiss", "u1", "Hallo").await;
    assert_error(status, &err, 403, "discussion_closed");
    // Closing again changes nothing and logs nothing more.
    app.moderate_discussion("heiss", json!({"action": "close"}))
        .await;
    let log = moderation_log::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, LogAction::CloseDiscussion);
    assert_eq!(log[0].article_id.as_deref(), Some("heiss"));
    assert_eq!(log[0].note.as_deref(), Some("Zu viele Beleidigungen"));
    assert_eq!(log[0].via, Via::Api);
    // Reopening within the age limit needs no date.
    let (status, reopened) = app
        .moderate_discussion("heiss", json!({"action": "reopen"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reopened["discussion"]["status"], "open");
    let (status, err) = app
        .moderate_discussion("heiss", json!({"action": "explode"}))
        .await;
    assert_error(status, &err, 422, "validation_failed");
}

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_comment-service"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_a_job_once_and_prints_a_summary() {
    let app = spawn_app(Db::Sqlite).await;
    app.put_article("alt-1", None, "2019-01-01T00:00:00Z").await;
    app.put_article("alt-2", None, "2019-02-01T00:00:00Z").await;
    app.put_recent_article("neu", None).await;
    let url = app.database.url.clone();
    let run = |args: &[&str]| {
        binary()
            .args(args)
            .env("DATABASE_URL", &url)
            .env("MAIL_DIR", app.mail_dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["jobs", "run", "close-expired"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "close-expired: closed 2 discussions"
    );
    let out = run(&["jobs", "run", "close-expired"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "close-expired: closed 0 discussions"
    );
    let out = run(&["jobs", "run", "deliver-notifications"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deliver-notifications: sent 0 notifications"
    );
    let out = run(&["jobs", "run", "nonsense"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown job"));
    let out = run(&["migrate"]);
    assert!(out.status.success(), "{out:?}");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_the_variable() {
    let out = binary()
        .args(["migrate"])
        .env("CLOSE_EXPIRED_SCHEDULE", "*/5 * * * *")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CLOSE_EXPIRED_SCHEDULE"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_request_lets_it_finish_and_exits_zero() {
    let database = TestDatabase::create(&Db::Sqlite).await;
    let mail_dir = tempfile::tempdir().unwrap();
    let port = crate::helpers::free_port();
    let mut child = crate::helpers::binary_serving(&database, port, mail_dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (client, base) = crate::helpers::client_when_healthy(port).await;
    client
        .put(format!("{base}/api/v1/articles/a1"))
        .bearer_auth(crate::helpers::SERVICE_TOKEN)
        .json(&json!({"title": "T", "url": "https://x.at/a1", "published_at": Utc::now().to_rfc3339()}))
        .send()
        .await
        .unwrap();

    // Hold SQLite's write lock so the next POST waits inside the server.
    let blocker = Database::connect(database.url.as_str()).await.unwrap();
    blocker
        .execute_unprepared("PRAGMA busy_timeout = 5000")
        .await
        .unwrap();
    let txn = sea_orm::TransactionTrait::begin_with_options(
        &blocker,
        sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let request = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/api/v1/articles/a1/comments");
        async move {
            client
                .post(url)
                .bearer_auth(crate::helpers::SERVICE_TOKEN)
                .json(
                    &json!({"author": {"id": "u1", "name": "Leser"}, "body": "Während des Stopps"}),
                )
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    sea_orm::TransactionSession::rollback(txn).await.unwrap();

    let response = request
        .await
        .unwrap()
        .expect("the running request completes");
    assert_eq!(response.status(), StatusCode::CREATED);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer accepting"
    );
}
