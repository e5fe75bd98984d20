//! A moderator's decision is final: no author action that raced it (an edit, a delete, an
//! appeal read before it) undoes it; a hidden or held comment is not its author's to change any
//! more; a decision settles any number of flags at once; `?ids=` caps its list before it parses.
//!
//! The races are ordered, not hoped for: the author's write is let through its read and then
//! held where it waits for its turn to write (this process's write gate on SQLite, the author's
//! advisory lock on PostgreSQL), the decision is made on a second replica, and only then is the
//! author's write let go.

use std::time::Instant;

use futures_util::StreamExt;

use chrono::Duration;
use comment_service::jobs::{JobName, RunOutcome};
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait, Value as DbValue,
};
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, assert_error, eventually, free_port, spawn_app_on, spawn_app_with,
};
use crate::on_both_databases;

/// The first key of the authors' advisory locks (`service::rate_limit`).
const AUTHOR_LOCK_SPACE: i64 = 0x636f_6d6d;

fn webhook_vars() -> Vec<(&'static str, String)> {
    vec![
        (
            "WEBHOOK_URL",
            format!("http://127.0.0.1:{}/hook", free_port()),
        ),
        ("WEBHOOK_SECRET", "test-webhook-secret-0123".to_owned()),
    ]
}

/// Two replicas on one database, recording webhook events (kept in the outbox: nobody listens),
/// with the open discussion `a1`.
async fn two_replicas(db: Db) -> (TestApp, TestApp) {
    let vars = webhook_vars();
    let one = spawn_app_with(db, &vars).await;
    let two = spawn_app_on(one.database.share(), &vars, None).await;
    one.put_recent_article("a1", None).await;
    (one, two)
}

/// An author id no other test uses (PostgreSQL's advisory locks are shared by every schema).
fn unique_author(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

async fn rows(
    db: &DatabaseConnection,
    sql: &str,
    values: Vec<DbValue>,
) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await
    .expect(sql)
}

async fn count(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) -> i64 {
    rows(db, sql, values).await[0]
        .try_get_by_index::<i64>(0)
        .expect(sql)
}

async fn status_of(app: &TestApp, id: &str) -> String {
    let row = &rows(
        &app.db,
        "SELECT status FROM comments WHERE id = $1",
        vec![id.parse::<i64>().unwrap().into()],
    )
    .await[0];
    row.try_get::<String>("", "status").unwrap()
}

/// Where a write of `author` on `app` waits for its turn, held by the test.
enum Held {
    /// This process's write gate on SQLite, and how many turns were pending with it held.
    Gate(Option<tokio::sync::OwnedMutexGuard<()>>, usize),
    /// The author's advisory lock on PostgreSQL, in a transaction of the test's.
    Advisory(DatabaseTransaction),
}

async fn hold(app: &TestApp, author: &str) -> Held {
    match app.db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = app.db.begin().await.unwrap();
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                [(AUTHOR_LOCK_SPACE as i32).into(), author.into()],
            ))
            .await
            .unwrap();
            Held::Advisory(txn)
        }
        _ => {
            let guard = app.state.write_gate().turn().await;
            let pending = app.state.write_gate().pending();
            Held::Gate(guard, pending)
        }
    }
}

impl Held {
    /// Returns once a write of `author` on `app` waits behind this hold.
    async fn until_waited_for(&self, app: &TestApp, author: &str) {
        match self {
            Held::Gate(_, pending) => {
                eventually("the write waits for its turn", || async {
                    (app.state.write_gate().pending() > *pending).then_some(())
                })
                .await
            }
            Held::Advisory(_) => {
                eventually("the write waits for the author's lock", || async {
                    let waiting = count(
                        &app.db,
                        "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                         AND classid = CAST($1 AS oid) \
                         AND CAST(objid AS bigint) = (CAST(hashtext($2) AS bigint) & 4294967295)",
                        vec![AUTHOR_LOCK_SPACE.into(), author.into()],
                    )
                    .await;
                    (waiting > 0).then_some(())
                })
                .await
            }
        }
    }

    async fn release(self) {
        match self {
            Held::Gate(guard, _) => drop(guard),
            Held::Advisory(txn) => txn.commit().await.unwrap(),
        }
    }
}

async fn edit(app: &TestApp, id: &str, author: &str, body: &str) -> (StatusCode, Value) {
    app.patch_json(
        &format!("/api/v1/comments/{id}"),
        json!({"author_id": author, "body": body}),
    )
    .await
}

async fn delete(app: &TestApp, id: &str, author: &str) -> (StatusCode, Value) {
    app.delete_json(
        &format!("/api/v1/comments/{id}"),
        json!({"author_id": author}),
    )
    .await
}

async fn hide(app: &TestApp, id: &str) {
    let (status, body) = app.decide(id, json!({"action": "hide"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "hidden", "{body}");
}

/// An edit that read the comment visible and then waited while a moderator hid it loses: 409,
/// the comment stays hidden with its old text, and no event says otherwise.
async fn an_edit_that_read_before_a_hide_cannot_make_the_comment_public_again(db: Db) {
    let (one, two) = two_replicas(db).await;
    let author = unique_author("race-edit");
    let id = one.comment("a1", &author, "Der erste Text").await;

    let held = hold(&one, &author).await;
    let editing = {
        let (one, id, author) = (&one, id.clone(), author.clone());
        async move { edit(one, &id, &author, "Der neue Text").await }
    };
    let deciding = async {
        held.until_waited_for(&one, &author).await;
        hide(&two, &id).await;
        held.release().await;
    };
    let ((status, body), ()) = tokio::join!(editing, deciding);
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "hidden", "{body}");
    assert_eq!(status_of(&one, &id).await, "hidden");
    let (_, view) = one
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(view["body"], "Der erste Text", "{view}");
    assert_eq!(view["edited_at"], Value::Null, "{view}");
    let (_, page) = two.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["comments"], json!([]), "{page}");
    assert_eq!(page["article"]["comment_count"], 0, "{page}");
}

/// The same for a delete on SQLite (on PostgreSQL a delete takes no author's turn to hold it
/// at; the concurrent pairs below cover it there): the delete that lost answers 409, not 204.
async fn a_delete_that_read_before_a_hide_answers_409_and_leaves_it_hidden(db: Db) {
    if matches!(db, Db::Postgres(_)) {
        return;
    }
    let (one, two) = two_replicas(db).await;
    let author = unique_author("race-delete");
    let id = one.comment("a1", &author, "Bleibt verborgen").await;
    let held = hold(&one, &author).await;
    let deleting = {
        let (one, id, author) = (&one, id.clone(), author.clone());
        async move { delete(one, &id, &author).await }
    };
    let deciding = async {
        held.until_waited_for(&one, &author).await;
        hide(&two, &id).await;
        held.release().await;
    };
    let ((status, body), ()) = tokio::join!(deleting, deciding);
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(status_of(&one, &id).await, "hidden");
    let (_, author_view) = one
        .get_as_moderator(&format!("/api/v1/authors/{author}"))
        .await;
    assert_eq!(author_view["stats"]["hidden"], 1, "{author_view}");
    assert_eq!(
        author_view["stats"]["deleted_by_author"], 0,
        "{author_view}"
    );
}

/// An appeal that read the comment hidden and then waited while a moderator approved it finds
/// nothing to appeal (SQLite: the appeal waits at the gate; on PostgreSQL its read and the lock
/// on the comment are one statement in its transaction).
async fn an_appeal_read_before_an_approval_finds_nothing_to_appeal(db: Db) {
    if matches!(db, Db::Postgres(_)) {
        return;
    }
    let (one, two) = two_replicas(db).await;
    let author = unique_author("race-appeal");
    let id = one
        .comment("a1", &author, "Verborgen, dann freigegeben")
        .await;
    hide(&one, &id).await;
    let held = hold(&one, &author).await;
    let appealing = {
        let (one, id, author) = (&one, id.clone(), author.clone());
        async move {
            one.post_json(
                &format!("/api/v1/comments/{id}/appeal"),
                json!({"author_id": author, "text": "Das war doch harmlos."}),
            )
            .await
        }
    };
    let deciding = async {
        held.until_waited_for(&one, &author).await;
        let path = format!("/api/v1/comments/{id}/moderation");
        let (status, body) = two
            .post_json_as_moderator(&path, json!({"action": "approve"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        held.release().await;
    };
    let ((status, body), ()) = tokio::join!(appealing, deciding);
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(
        count(&one.db, "SELECT COUNT(*) FROM appeals", vec![]).await,
        0
    );
    assert_eq!(status_of(&one, &id).await, "visible");
}

/// 200 comments, each edited on one replica while a moderator hides it on the other, and 100
/// more deleted by their authors while a moderator hides them: afterwards every comment the hide
/// took effect on is hidden (a delete that came first refuses the hide), each edit or delete
/// that lost answered 409, and the article counts none of them.
async fn concurrent_edits_and_deletes_never_undo_a_hide(db: Db) {
    let (one, two) = two_replicas(db).await;
    let mut ids = Vec::new();
    for i in 0..300 {
        let author = format!("pair-{i}");
        ids.push((
            one.comment("a1", &author, &format!("Kommentar {i}")).await,
            author,
        ));
    }
    let pairs = ids.iter().enumerate().map(|(i, (id, author))| {
        let (one, two) = (&one, &two);
        async move {
            let write = async {
                if i < 200 {
                    edit(one, id, author, &format!("Geändert {i}")).await
                } else {
                    delete(one, id, author).await
                }
            };
            let hiding = two.decide(id, json!({"action": "hide"}));
            let ((status, body), (hid, decided)) = tokio::join!(write, hiding);
            assert!(
                status.is_success() || status == StatusCode::CONFLICT,
                "{status} {body}"
            );
            if status == StatusCode::CONFLICT {
                assert_eq!(body["error"]["code"], "state_conflict", "{body}");
            }
            (id.clone(), i < 200, status, hid, decided)
        }
    });
    let mut answers = Vec::new();
    // 16 pairs at a time: enough to race, few enough for the connection pools.
    let mut pairs = Box::pin(futures_util::stream::iter(pairs).buffer_unordered(16));
    while let Some(answer) = pairs.next().await {
        answers.push(answer);
    }
    assert_eq!(answers.len(), 300);
    for (id, editing, status, hid, decided) in &answers {
        let now = status_of(&one, id).await;
        if *hid == StatusCode::OK {
            // The hide took effect: nothing the author did turns it back.
            assert_eq!(now, "hidden", "comment {id}: {status} then {decided}");
        } else {
            // Only a delete by the author that came first refuses the hide.
            assert!(!editing, "comment {id}: {decided}");
            assert_eq!(*status, StatusCode::NO_CONTENT, "comment {id}");
            assert_eq!(decided["error"]["code"], "state_conflict", "{decided}");
            assert_eq!(now, "deleted", "comment {id}");
        }
    }
    assert_eq!(
        count(
            &one.db,
            "SELECT COUNT(*) FROM comments WHERE status = 'visible'",
            vec![]
        )
        .await,
        0
    );
    let (_, page) = two.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["comments"], json!([]));
    two.clock.advance(Duration::seconds(2));
    let (_, page) = two.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["article"]["comment_count"], 0, "{page}");
}

/// A held or hidden comment is not its author's to change: PATCH and DELETE answer 409 with its
/// status, change nothing, and the hidden comment keeps counting against its author.
async fn a_hidden_or_held_comment_cannot_be_edited_or_deleted_by_its_author(db: Db) {
    let (app, _) = two_replicas(db).await;
    let path = "/api/v1/moderation/rules";
    let (status, _) = app
        .put_json_as_moderator(path, json!({"suspect_words": ["depp"]}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let hidden = app.comment("a1", "u-1", "Wird verborgen").await;
    hide(&app, &hidden).await;
    let (status, held) = app
        .post_json(
            "/api/v1/articles/a1/comments",
            json!({"author": {"id": "u-1", "name": "Leser"}, "body": "Du Depp"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "pending_review");
    let held = held["id"].as_str().unwrap().to_owned();

    for (id, current) in [(&hidden, "hidden"), (&held, "pending_review")] {
        let (status, body) = edit(&app, id, "u-1", "Neuer Text").await;
        assert_error(status, &body, 409, "state_conflict");
        assert_eq!(body["error"]["details"]["current"], current);
        let (status, body) = delete(&app, id, "u-1").await;
        assert_error(status, &body, 409, "state_conflict");
        assert_eq!(body["error"]["details"]["current"], current);
        assert_eq!(status_of(&app, id).await, current);
    }
    let (_, author) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(author["stats"]["hidden"], 1, "{author}");
    assert_eq!(author["stats"]["held"], 1, "{author}");
    assert_eq!(author["stats"]["deleted_by_author"], 0, "{author}");
    // Their own visible comment they still delete, and deleting it again changes nothing.
    let own = app.comment("a1", "u-2", "Weg damit").await;
    assert_eq!(delete(&app, &own, "u-2").await.0, StatusCode::NO_CONTENT);
    assert_eq!(delete(&app, &own, "u-2").await.0, StatusCode::NO_CONTENT);
    let (status, body) = edit(&app, &own, "u-2", "Zurück").await;
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "deleted");
}

/// 40,000 open flags on one comment: the queue item carries the count and the newest 20 notes,
/// one decision resolves them all with its decision id and tells each reporter, well within a
/// second here.
async fn a_decision_settles_forty_thousand_flags_at_once(db: Db) {
    const FLAGS: i64 = 40_000;
    let (app, _) = two_replicas(db).await;
    let id = app.comment("a1", "u-1", "Viel gemeldet").await;
    let comment_id: i64 = id.parse().unwrap();
    let now = app.clock.now();
    let series = match app.db.get_database_backend() {
        DbBackend::Postgres => "SELECT i FROM generate_series(1, $3) AS s(i)",
        _ => {
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3) \
              SELECT i FROM n"
        }
    };
    let insert = format!(
        "INSERT INTO flags (comment_id, reporter_id, reason, note, created_at) \
         SELECT $1, 'r-' || CAST(i AS TEXT), 'spam', \
                CASE WHEN i % 2 = 0 THEN 'Notiz ' || CAST(i AS TEXT) END, $2 FROM ({series}) AS s"
    );
    rows(
        &app.db,
        &insert,
        vec![comment_id.into(), now.into(), FLAGS.into()],
    )
    .await;
    rows(
        &app.db,
        "UPDATE comments SET flag_count = $1, first_flag_at = $2 WHERE id = $3",
        vec![FLAGS.into(), now.into(), comment_id.into()],
    )
    .await;

    let (status, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let flags = &queue["items"][0]["flags"];
    assert_eq!(flags["total"], FLAGS, "{flags}");
    assert_eq!(flags["note_count"], FLAGS / 2, "{flags}");
    let notes: Vec<&str> = flags["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let newest: Vec<String> = (0..20)
        .rev()
        .map(|k| format!("Notiz {}", FLAGS - 2 * k))
        .collect();
    assert_eq!(notes, newest);

    let started = Instant::now();
    let (status, body) = app.decide(&id, json!({"action": "hide"})).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    println!("a decision on {FLAGS} flags took {took:?}");
    let decision = count(
        &app.db,
        "SELECT MAX(id) FROM decisions WHERE comment_id = $1",
        vec![comment_id.into()],
    )
    .await;
    let settled = count(
        &app.db,
        "SELECT COUNT(*) FROM flags WHERE comment_id = $1 AND resolved_at IS NOT NULL \
         AND decision_id = $2",
        vec![comment_id.into(), decision.into()],
    )
    .await;
    assert_eq!(settled, FLAGS);
    let told = count(
        &app.db,
        "SELECT COUNT(*) FROM events WHERE event_type = 'flag.decided' AND stream = $1",
        vec![format!("comment:{comment_id}").into()],
    )
    .await;
    assert_eq!(told, FLAGS);
    // Any flag of the comment tells its reporter the decision.
    let first_flag = count(
        &app.db,
        "SELECT MIN(id) FROM flags WHERE comment_id = $1",
        vec![comment_id.into()],
    )
    .await;
    let (_, flag) = app.get(&format!("/api/v1/flags/{first_flag}")).await;
    assert_eq!(flag["status"], "decided", "{flag}");
    assert_eq!(flag["decision"]["action"], "hide", "{flag}");
    let (_, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(queue["items"], json!([]));
}

/// `?ids=` looks at no more than 100 items: a longer list is refused before any item is parsed
/// (repeats count; a malformed item past the hundredth is never reached).
async fn ids_are_capped_before_they_are_parsed(db: Db) {
    let (app, _) = two_replicas(db).await;
    let mut many: Vec<String> = std::iter::repeat_n("a1".to_owned(), 150).collect();
    many.push("kaputt!".to_owned());
    let (status, body) = app
        .get(&format!("/api/v1/articles?ids={}", many.join(",")))
        .await;
    assert_error(status, &body, 422, "validation_failed");
    assert_eq!(
        body["error"]["details"]["fields"]["ids"], "at most 100 ids at once",
        "{body}"
    );
    // A long query (about 30 KiB, 10,000 items) is answered as quickly.
    let long: Vec<String> = (0..10_000).map(|i| format!("{i:x}")).collect();
    let (status, body) = app
        .get(&format!("/api/v1/articles?ids={}", long.join(",")))
        .await;
    assert_error(status, &body, 422, "validation_failed");
    let exactly: Vec<String> = std::iter::repeat_n("a1".to_owned(), 100).collect();
    let (status, body) = app
        .get(&format!("/api/v1/articles?ids={}", exactly.join(",")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["articles"].as_array().unwrap().len(), 1, "{body}");
}

/// With `ILLEGAL_REVIEW_HOURS` at 2 or less the reminder is due at once: the first
/// `send-reminders` run after the notice queues it, and only once.
async fn a_short_review_deadline_sends_its_reminder_on_the_first_run(db: Db) {
    for hours in ["1", "2"] {
        let app = spawn_app_with(db.clone(), &[("ILLEGAL_REVIEW_HOURS", hours.to_owned())]).await;
        app.put_recent_article("a1", None).await;
        let id = app.comment("a1", "u-1", "Aufruf zu Gewalt").await;
        let (status, body) = app
            .post_json(
                &format!("/api/v1/comments/{id}/flags"),
                json!({"reporter": {"id": "r-1"}, "reason": "illegal",
                            "note": "Aufruf zu Gewalt gegen eine Gruppe"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let jobs = app.state.jobs().clone();
        assert_eq!(
            jobs.run(JobName::SendReminders).await.unwrap(),
            RunOutcome::Done(1),
            "ILLEGAL_REVIEW_HOURS={hours}"
        );
        app.clock.advance(Duration::minutes(10));
        assert_eq!(
            jobs.run(JobName::SendReminders).await.unwrap(),
            RunOutcome::Done(0)
        );
        let reminders = count(
            &app.db,
            "SELECT COUNT(*) FROM notifications WHERE kind = 'reminder'",
            vec![],
        )
        .await;
        assert_eq!(reminders, 1, "ILLEGAL_REVIEW_HOURS={hours}");
    }
}

on_both_databases!(
    an_edit_that_read_before_a_hide_cannot_make_the_comment_public_again,
    a_delete_that_read_before_a_hide_answers_409_and_leaves_it_hidden,
    an_appeal_read_before_an_approval_finds_nothing_to_appeal,
    concurrent_edits_and_deletes_never_undo_a_hide,
    a_hidden_or_held_comment_cannot_be_edited_or_deleted_by_its_author,
    a_decision_settles_forty_thousand_flags_at_once,
    ids_are_capped_before_they_are_parsed,
    a_short_review_deadline_sends_its_reminder_on_the_first_run,
);
