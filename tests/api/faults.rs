//! Fault tests: a slow or refusing mail server, two replicas, a process killed with SIGKILL under
//! load; and what the service keeps (no live links, private files, retention).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Duration as Span;
use comment_service::domain::states::{NotificationKind, NotificationStatus};
use comment_service::entity::{flag, idempotency_key, notification, used_action_token};
use comment_service::jobs::JobName;
use comment_service::jobs::deliver_notifications::LEASE;
use comment_service::store::outbox;
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, Database, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{
    Db, SERVICE_TOKEN, TestApp, TestDatabase, eventually, json_of, spawn_app_on, spawn_app_with,
    spawn_app_with_article,
};
use crate::on_both_databases;
use crate::smtp_server::{Behaviour, ReceivedMail, TestSmtpServer};

on_both_databases!(
    two_replicas_and_a_slow_mail_server_send_each_message_once,
    only_the_holder_of_a_lease_marks_a_notification,
    a_permanent_refusal_fails_the_notification_at_once_with_the_servers_answer,
    no_working_action_link_is_stored,
    the_purge_job_removes_what_is_past_retention_and_keeps_the_rest,
    a_large_purge_runs_in_batches_until_nothing_is_left,
    a_process_killed_under_load_loses_no_flag_and_sends_each_mail_once,
);

const WAIT: Duration = Duration::from_secs(20);

async fn flag(app: &TestApp, comment: &str, reporter: &str) -> (StatusCode, Value) {
    app.post_json(
        &format!("/api/v1/comments/{comment}/flags"),
        json!({"reporter": {"id": reporter}, "reason": "abuse", "note": "Bitte prüfen"}),
    )
    .await
}

async fn outbox_rows(db: &DatabaseConnection) -> Vec<notification::Model> {
    notification::Entity::find().all(db).await.unwrap()
}

/// The action links of a mail's text part.
fn action_links(mail: &ReceivedMail) -> Vec<String> {
    mail.text_part()
        .lines()
        .filter(|l| !l.starts_with('>') && l.contains("/moderation/actions/"))
        .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
        .collect()
}

/// Each notification in `rows` arrived exactly once, and nothing else arrived.
fn assert_each_arrived_once(rows: &[notification::Model], servers: &[&TestSmtpServer]) {
    let mut arrivals = std::collections::HashMap::<String, usize>::new();
    for server in servers {
        for (id, n) in server.arrivals_by_message_id() {
            *arrivals.entry(id).or_insert(0) += n;
        }
    }
    let twice: Vec<_> = arrivals.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let expected: HashSet<&str> = rows.iter().map(|r| r.message_id.as_str()).collect();
    let arrived: HashSet<&str> = arrivals.keys().map(String::as_str).collect();
    assert_eq!(arrived, expected, "every notification, and nothing else");
}

async fn two_replicas_and_a_slow_mail_server_send_each_message_once(db: Db) {
    // The server has each message at once and answers 150 ms later; the test lets 15 s pass on
    // the shared clock for every message, as if each took that long. A run that claimed many rows
    // under one lease would see the later rows' lease run out while it still sends them, and the
    // other replica would send them again.
    let smtp = Arc::new(
        TestSmtpServer::start_with(
            0,
            Behaviour {
                answer_delay: Duration::from_millis(150),
                ..Behaviour::default()
            },
        )
        .await
        .unwrap(),
    );
    let vars = [("SMTP_URL", smtp.url())];
    let one = spawn_app_with(db, &vars).await;
    let two = spawn_app_on(one.database.share(), &vars, None).await;
    one.put_recent_article("a1", None).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(one.comment("a1", &format!("autor-{i}"), "Kommentar").await);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let time_passes = tokio::spawn({
        let (smtp, clock, stop) = (smtp.clone(), one.clock.clone(), stop.clone());
        async move {
            let mut seen = 0;
            while !stop.load(Ordering::SeqCst) {
                let now = smtp
                    .wait_for(seen + 1, Duration::from_millis(50))
                    .await
                    .len();
                clock.advance(Span::seconds(15) * (now - seen) as i32);
                seen = now;
            }
        }
    });
    let keep_sending = |app: &TestApp| {
        let (jobs, stop) = (app.state.jobs().clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                jobs.run(JobName::DeliverNotifications).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let senders = [keep_sending(&one), keep_sending(&two)];
    let flags = ids.iter().enumerate().map(|(i, id)| {
        let app = if i % 2 == 0 { &one } else { &two };
        flag(app, id, "leser")
    });
    for (status, body) in futures_util::future::join_all(flags).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let rows = eventually("every notification marked sent", || async {
        let rows = outbox_rows(&one.db).await;
        (rows.len() == 24 && rows.iter().all(|n| n.status == NotificationStatus::Sent))
            .then_some(rows)
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for task in senders {
        task.await.unwrap();
    }
    time_passes.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_each_arrived_once(&rows, &[&smtp]);
    assert!(rows.iter().all(|n| n.attempts == 1), "no row claimed twice");
    assert!(
        one.clock.now() - rows[0].created_at > LEASE * 2,
        "the run took longer than two leases on the clock"
    );
}

async fn only_the_holder_of_a_lease_marks_a_notification(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    app.put_recent_article("a1", None).await;
    let id: i64 = app.comment("a1", "autor", "Text").await.parse().unwrap();
    let queued = |n: i64| outbox::NewNotification {
        comment_id: id,
        kind: NotificationKind::Flagged,
        message_id: format!("<lease-test-{n}@comment-service>"),
        in_reply_to: None,
        subject: "Betreff".to_owned(),
        snapshot: "{}".to_owned(),
        review_round: 0,
    };
    let t0 = app.clock.now();
    let first = outbox::enqueue(&app.db, queued(1), t0).await.unwrap();
    let second = outbox::enqueue(&app.db, queued(2), t0).await.unwrap();

    // Each claim leases one row.
    let (a, lease_a) = outbox::claim_next(&app.db, t0, LEASE, "a")
        .await
        .unwrap()
        .unwrap();
    let (b, lease_b) = outbox::claim_next(&app.db, t0, LEASE, "b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.id, b.id), (first.id, second.id));
    assert_ne!(lease_a.token, lease_b.token);
    assert_eq!(lease_a.until, t0 + LEASE);
    assert!(
        outbox::claim_next(&app.db, t0, LEASE, "c")
            .await
            .unwrap()
            .is_none(),
        "both rows are leased"
    );

    // A's lease ends while A still holds on to the row; C takes it over.
    let later = t0 + LEASE;
    let (c, lease_c) = outbox::claim_next(&app.db, later, LEASE, "c")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.id, first.id);
    assert!(
        !outbox::mark_sent(&app.db, a.id, &lease_a, later)
            .await
            .unwrap()
    );
    assert!(
        !outbox::mark_attempt_failed(&app.db, a.id, &lease_a, "late", None)
            .await
            .unwrap()
    );
    let row = notification::Entity::find_by_id(a.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, NotificationStatus::Pending, "A marked nothing");
    assert_eq!(row.lease_token.as_deref(), Some(lease_c.token.as_str()));
    assert!(
        outbox::mark_sent(&app.db, c.id, &lease_c, later)
            .await
            .unwrap()
    );

    // A process that restarts under the owner name of a killed one frees that one's rows.
    assert_eq!(outbox::release_owned_by(&app.db, "a").await.unwrap(), 0);
    assert_eq!(outbox::release_owned_by(&app.db, "b").await.unwrap(), 1);
    let (again, _) = outbox::claim_next(&app.db, t0, LEASE, "b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, second.id);
}

async fn a_permanent_refusal_fails_the_notification_at_once_with_the_servers_answer(db: Db) {
    let smtp = TestSmtpServer::start_with(
        0,
        Behaviour {
            refuse_with: Some("554 5.7.1 Abgelehnt: Richtlinie 42".to_owned()),
            ..Behaviour::default()
        },
    )
    .await
    .unwrap();
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", "Text").await;
    assert_eq!(flag(&app, &id, "leser").await.0, StatusCode::CREATED);
    let row = eventually("the notification failed", || async {
        outbox_rows(&app.db)
            .await
            .into_iter()
            .find(|n| n.status == NotificationStatus::Failed)
    })
    .await;
    assert_eq!(row.attempts, 1, "not retried");
    let error = row.last_error.unwrap();
    assert!(
        error.contains("554") && error.contains("Abgelehnt: Richtlinie 42"),
        "{error}"
    );
    assert!(smtp.received().is_empty());
}

async fn no_working_action_link_is_stored(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", "Text").await;

    // Queued while the moderators' links would expire before the mail goes out: the mail server
    // refuses connections for eight days.
    let down = TestSmtpServer::start().await;
    let port = down.port();
    down.stop().await;
    let late = spawn_app_on(
        app.database.share(),
        &[("SMTP_URL", format!("smtp://127.0.0.1:{port}"))],
        None,
    )
    .await;
    assert_eq!(flag(&late, &id, "leser").await.0, StatusCode::CREATED);
    eventually("a failed attempt", || async {
        let rows = outbox_rows(&app.db).await;
        rows.first()
            .is_some_and(|r| r.attempts == 1 && r.lease_token.is_none())
            .then_some(())
    })
    .await;
    app.clock.advance(Span::days(8));
    // A run the wake-up started may still be going on: run once it has finished.
    eventually("a run of deliver-notifications", || async {
        let outcome = app.state.jobs().run(JobName::DeliverNotifications).await;
        matches!(outcome, Ok(comment_service::jobs::RunOutcome::Done(_))).then_some(())
    })
    .await;
    let mails = smtp.wait_for(1, WAIT).await;
    let links = action_links(&mails[0]);
    assert_eq!(links.len(), 3, "{}", mails[0].text_part());

    // The outbox keeps no link and no token, and the links were signed when the mail was sent.
    for row in outbox_rows(&app.db).await {
        let stored = format!(
            "{} {} {} {:?}",
            row.subject, row.body_text, row.body_html, row.snapshot
        );
        assert!(!stored.contains("/moderation/actions/"), "{stored}");
        for link in &links {
            let token = link.rsplit('/').next().unwrap();
            assert!(!stored.contains(token), "{stored}");
        }
        assert!(row.snapshot.unwrap().contains("Bitte prüfen"));
    }
    let local = links[0].replace("http://127.0.0.1:0", &app.address);
    let local = format!(
        "{}/moderation/actions/{}",
        app.address,
        local.rsplit('/').next().unwrap()
    );
    let page = app.client.get(&local).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "the link of a late mail works"
    );
}

async fn a_large_purge_runs_in_batches_until_nothing_is_left(db: Db) {
    use comment_service::jobs::purge::BATCH;
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "autor", "Viel gemeldet").await;
    let total = 2 * BATCH + 500;
    let old = app.clock.now() - Span::days(400);
    let rows: Vec<String> = (0..total)
        .map(|i| format!("({id}, 'leser-{i}', 'spam', NULL, $1, $1)"))
        .collect();
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO flags (comment_id, reporter_id, reason, note, created_at, resolved_at) VALUES {}",
            chunk.join(",")
        );
        sea_orm::ConnectionTrait::execute_raw(
            &app.db,
            sea_orm::Statement::from_sql_and_values(
                app.db.get_database_backend(),
                sql,
                [old.into()],
            ),
        )
        .await
        .unwrap();
    }
    let outcome = app.state.jobs().run(JobName::Purge).await.unwrap();
    assert_eq!(outcome, comment_service::jobs::RunOutcome::Done(total));
    assert!(flag::Entity::find().all(&app.db).await.unwrap().is_empty());
}

async fn the_purge_job_removes_what_is_past_retention_and_keeps_the_rest(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    let t0 = app.clock.now();
    app.put_recent_article("a1", None).await;
    let decided = app.comment("a1", "autor-1", "Entschieden").await;
    let open = app.comment("a1", "autor-2", "Offen").await;
    flag(&app, &decided, "leser").await;
    let mail = smtp.wait_for(1, WAIT).await.remove(0);
    let approve = action_links(&mail).remove(0);
    let approve = format!(
        "{}/moderation/actions/{}",
        app.address,
        approve.rsplit('/').next().unwrap()
    );
    let done = app
        .client
        .post(&approve)
        .form(&[("kuerzel", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let keyed = app
        .client
        .post(format!("{}/api/v1/articles/a1/comments", app.address))
        .bearer_auth(SERVICE_TOKEN)
        .header("Idempotency-Key", "k-1")
        .json(&json!({"author": {"id": "u9", "name": "Leser"}, "body": "Mit Schlüssel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), StatusCode::CREATED);
    app.clock.advance(Span::days(30));
    flag(&app, &open, "leser").await;
    smtp.wait_for(2, WAIT).await;
    eventually("both notifications sent", || async {
        let rows = outbox_rows(&app.db).await;
        rows.iter()
            .all(|r| r.status == NotificationStatus::Sent)
            .then_some(())
    })
    .await;

    let purge = || async { app.state.jobs().run(JobName::Purge).await.unwrap() };
    let counts = || async {
        (
            flag::Entity::find().all(&app.db).await.unwrap().len(),
            idempotency_key::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
                .len(),
            used_action_token::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
                .len(),
            notification::Entity::find()
                .filter(notification::Column::Snapshot.is_not_null())
                .all(&app.db)
                .await
                .unwrap()
                .len(),
        )
    };
    // Day 30: the idempotency key (a day) and the spent link (it expired after 7 days) are gone.
    assert_eq!(counts().await, (2, 1, 1, 2));
    assert_eq!(
        purge().await,
        comment_service::jobs::RunOutcome::Done(2),
        "key and link"
    );
    assert_eq!(counts().await, (2, 0, 0, 2));
    // RETENTION_DAYS (365) after the decision: nothing more yet.
    app.clock.set(t0 + Span::days(365));
    assert_eq!(purge().await, comment_service::jobs::RunOutcome::Done(0));
    // After 365 days: the resolved flag and the first mail's text; the open flag stays until it is
    // resolved, the second mail's text until it is a year old.
    app.clock.advance(Span::seconds(1));
    assert_eq!(purge().await, comment_service::jobs::RunOutcome::Done(2));
    assert_eq!(counts().await, (1, 0, 0, 1));
    let remaining = flag::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert!(remaining.resolved_at.is_none());
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(
        log["entries"].as_array().unwrap().len(),
        1,
        "the log is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_runs_the_purge_job_once_with_a_summary() {
    let database = TestDatabase::create(&Db::Sqlite).await;
    let mail_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_comment-service"))
        .args(["jobs", "run", "purge"])
        .env("DATABASE_URL", &database.url)
        .env("MAIL_DIR", mail_dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "purge: removed 0 records past retention"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_and_the_mail_files_are_readable_by_the_service_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let mail_root = tempfile::tempdir().unwrap();
    let mail_dir = mail_root.path().join("data").join("mail");
    let app = spawn_app_with(Db::Sqlite, &[("MAIL_DIR", mail_dir.display().to_string())]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", "Text").await;
    flag(&app, &id, "leser").await;
    let file = eventually("the mail file", || async {
        std::fs::read_dir(&mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "eml"))
    })
    .await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&mail_dir), 0o700);
    assert_eq!(mode(&file), 0o600);
    let db_file = app
        .database
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(mode(std::path::Path::new(&db_file)), 0o600);
    for suffix in ["-wal", "-shm"] {
        let side = format!("{db_file}{suffix}");
        if std::path::Path::new(&side).exists() {
            assert_eq!(mode(std::path::Path::new(&side)), 0o600, "{side}");
        }
    }
}

/// The service binary as a child process on `database`, bound to `port`, sending to `smtp`.
fn start_service(database: &TestDatabase, port: u16, smtp: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_comment-service"))
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("API_TOKENS", format!("web:service:{SERVICE_TOKEN}"))
        .env("ACTION_LINK_SECRET", "test-secret-for-action-links")
        .env("SMTP_URL", smtp)
        .env("DELIVER_NOTIFICATIONS_SCHEDULE", "* * * * * *")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn wait_until_serving(client: &reqwest::Client, base: &str) {
    eventually("the service to answer /healthz", || async {
        client.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
}

/// How many flags the kill test posts.
const FLAGS: usize = 600;

async fn a_process_killed_under_load_loses_no_flag_and_sends_each_mail_once(db: Db) {
    let started = std::time::Instant::now();
    let database = TestDatabase::create(&db).await;
    // This server stops answering at its 4th message: the process is killed while it sends it.
    let stuck = TestSmtpServer::start_with(
        0,
        Behaviour {
            hang_after: Some(3),
            ..Behaviour::default()
        },
    )
    .await
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    comment_service::startup::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut service = start_service(&database, port, &stuck.url());
    wait_until_serving(&client, &base).await;
    let call = |method: Method, path: String, body: Value| {
        client
            .request(method, format!("{base}{path}"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body)
            .send()
    };
    let published = chrono::Utc::now() - Span::days(1);
    let (status, _) = json_of(
        call(
            Method::PUT,
            "/api/v1/articles/a1".to_owned(),
            json!({"title": "Artikel", "url": "https://www.krone.at/a1", "published_at": published}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert!(status.is_success());
    let comments: Vec<String> = futures_util::stream::iter(0..FLAGS)
        .map(|i| {
            let post = call(
                Method::POST,
                "/api/v1/articles/a1/comments".to_owned(),
                json!({"author": {"id": format!("autor-{i}"), "name": "Autor"}, "body": "Text"}),
            );
            async move {
                let (status, body) = json_of(post.await.unwrap()).await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
                body["id"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    // FLAGS flags, 8 at a time (enough that a busy machine is still posting them at the kill); the process is killed once the mail server hangs and at least 20
    // flags were answered, with flags still being posted.
    let answered = Arc::new(std::sync::Mutex::new(Vec::new()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let hanging = stuck.hanging_probe();
    let flags = tokio::spawn({
        let (answered, in_flight, client, base) = (
            answered.clone(),
            in_flight.clone(),
            client.clone(),
            base.clone(),
        );
        async move {
            futures_util::stream::iter(comments)
                .for_each_concurrent(8, |id| {
                    // The stream is awaited in this block: the flags borrow what it owns.
                    let (answered, in_flight) = (&answered, &in_flight);
                    let (client, base, hanging) = (&client, &base, &hanging);
                    async move {
                        // Past 20 answers, the next flags wait for the mail server to hang, so
                        // the kill always comes while flags are still being posted (on a fast
                        // machine all of them were answered before the mail job reached it).
                        while answered.lock().unwrap().len() >= 20 && hanging() == 0 {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        in_flight.fetch_add(1, Ordering::SeqCst);
                        let response = client
                            .post(format!("{base}/api/v1/comments/{id}/flags"))
                            .bearer_auth(SERVICE_TOKEN)
                            .json(&json!({"reporter": {"id": "leser"}, "reason": "spam"}))
                            .send()
                            .await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        if response.is_ok_and(|r| r.status() == StatusCode::CREATED) {
                            answered.lock().unwrap().push(id);
                        }
                    }
                })
                .await
        }
    });
    eventually("the mail server hanging and 20 flags answered", || async {
        (stuck.hanging() > 0 && answered.lock().unwrap().len() >= 20).then_some(())
    })
    .await;
    println!(
        "hanging after {:?}, {} flags answered",
        started.elapsed(),
        answered.lock().unwrap().len()
    );
    service.start_kill().unwrap();
    service.wait().await.unwrap();
    let pending_at_kill = in_flight.load(Ordering::SeqCst);
    flags.await.unwrap();
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() < FLAGS,
        "killed while flags were still posted"
    );
    println!(
        "killed with {pending_at_kill} flag requests in flight; {} flags answered 201",
        answered.len()
    );

    // The same process restarts on the same database and address, with a working mail server.
    let smtp = TestSmtpServer::start().await;
    let mut service = start_service(&database, port, &smtp.url());
    wait_until_serving(&client, &base).await;
    let db = Database::connect(database.url.as_str()).await.unwrap();
    for id in &answered {
        let id: i64 = id.parse().unwrap();
        let found = flag::Entity::find()
            .filter(flag::Column::CommentId.eq(id))
            .filter(flag::Column::ReporterId.eq("leser"))
            .one(&db)
            .await
            .unwrap();
        assert!(found.is_some(), "the answered flag on {id} exists");
    }
    let rows = eventually("every notification sent after the restart", || async {
        let rows = outbox_rows(&db).await;
        rows.iter()
            .all(|n| n.status == NotificationStatus::Sent)
            .then_some(rows)
    })
    .await;
    assert!(rows.len() >= answered.len());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_each_arrived_once(&rows, &[&stuck, &smtp]);
    service.start_kill().unwrap();
    service.wait().await.unwrap();
    db.close().await.ok();
    println!("the kill test took {:?}", started.elapsed());
}
