//! The live stream of a discussion (`GET /live/articles/{id}`), read as a browser reads it:
//! over a real connection, frame by frame.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, TestDatabase, assert_error, eventually, json_of, spawn_app_on, spawn_app_with,
    spawn_app_with_article,
};
use crate::on_both_databases;

on_both_databases!(
    a_reader_sees_comments_edits_removals_and_approvals_in_order_and_never_a_held_comment,
    closing_and_reopening_the_discussion_reach_its_readers,
    last_event_id_resumes_without_gaps_or_duplicates_or_resets_when_too_old,
    streams_refuse_bad_requests_in_the_error_shape_and_beyond_the_limit,
    streams_answer_cors_for_the_allowed_origins_only,
    reactions_reach_readers_as_the_newest_count_at_most_once_a_second,
);

/// One event of a stream.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub event: String,
    pub data: Value,
}

/// A stream as a browser's `EventSource` reads it: frames split at blank lines, comment lines
/// skipped, the last `id:` kept.
pub struct Reader {
    response: reqwest::Response,
    buffer: String,
    pub last_id: Option<i64>,
}

impl Reader {
    pub async fn open(app: &TestApp, article: &str, last_event_id: Option<i64>) -> Reader {
        let response = open(app, article, last_event_id, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "{:?}",
            response.headers()
        );
        Reader {
            response,
            buffer: String::new(),
            last_id: None,
        }
    }

    /// The next event, or `None` when none comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, None, None);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.parse::<i64>().expect("numeric id"));
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str::<Value>(v).expect("JSON data"));
                    }
                }
                if id.is_some() {
                    self.last_id = id;
                }
                if let (Some(event), Some(data)) = (event, data) {
                    return Some(Event {
                        id: id.unwrap_or(-1),
                        event,
                        data,
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(Ok(None)) => panic!("the stream ended"),
                Ok(Err(e)) => panic!("reading the stream failed: {e}"),
                Err(_) => return None,
            }
        }
    }

    /// The next event, which must come.
    pub async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(20))
            .await
            .expect("an event within 20 s")
    }

    /// Reads until the stream has sent its opening (its `retry:` and id).
    pub async fn opened(app: &TestApp, article: &str) -> Reader {
        let mut reader = Reader::open(app, article, None).await;
        assert!(
            reader
                .next_within(Duration::from_millis(300))
                .await
                .is_none()
        );
        assert!(reader.last_id.is_some(), "the opening sets the reader's id");
        reader
    }
}

async fn open(
    app: &TestApp,
    article: &str,
    last_event_id: Option<i64>,
    origin: Option<&str>,
) -> reqwest::Response {
    // No overall timeout: the stream stays open.
    let client = reqwest::Client::new();
    let mut request = client.get(format!("{}/live/articles/{article}", app.address));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    request.send().await.expect("open the stream")
}

fn comment_event(event: &Event) -> (&str, &str) {
    (
        event.event.as_str(),
        event.data["id"].as_str().unwrap_or(""),
    )
}

async fn put_settings(app: &TestApp, article: &str, premod: bool) {
    let (status, body) = app
        .put_json_as_moderator(
            &format!("/api/v1/articles/{article}/settings"),
            json!({"premod": premod, "links": "inherit", "message": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn a_reader_sees_comments_edits_removals_and_approvals_in_order_and_never_a_held_comment(
    db: Db,
) {
    let app = spawn_app_with_article(db).await;
    app.put_recent_article("other", None).await;
    let mut reader = Reader::opened(&app, "a1").await;
    // The reader reads each change before the next one: a stream sends a comment as the thread
    // shows it when the change is sent, so a `created` the reader had not received before the
    // comment was hidden is never sent (only its `removed`).
    let mut events = Vec::new();

    let first = app.comment("a1", "u1", "Erster Beitrag").await;
    app.comment("other", "u9", "Woanders").await;
    events.push(reader.next().await);
    let (status, edited) = app
        .patch_json(
            &format!("/api/v1/comments/{first}"),
            json!({"author_id": "u1", "body": "Erster Beitrag, korrigiert"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    events.push(reader.next().await);
    app.decide_ok(&first, json!({"action": "hide"})).await;
    events.push(reader.next().await);
    put_settings(&app, "a1", true).await;
    let (status, held) = app.post_comment("a1", "u2", "Wartet auf Freigabe").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(held["status"], "pending_review");
    let held = held["id"].as_str().unwrap().to_string();
    let (_, never) = app.post_comment("a1", "u3", "Bleibt zurückgehalten").await;
    let never = never["id"].as_str().unwrap().to_string();
    app.decide_ok(&held, json!({"action": "approve"})).await;
    events.push(reader.next().await);
    put_settings(&app, "a1", false).await;
    let last = app.comment("a1", "u4", "Nach der Freigabe").await;
    events.push(reader.next().await);
    let seen: Vec<(&str, &str)> = events.iter().map(comment_event).collect();
    assert_eq!(
        seen,
        vec![
            ("comment.created", first.as_str()),
            ("comment.edited", first.as_str()),
            ("comment.removed", first.as_str()),
            ("comment.created", held.as_str()),
            ("comment.created", last.as_str()),
        ],
        "{events:#?}"
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids rise");
    // What readers see is the thread's own view.
    assert_eq!(events[0].data["body"], "Erster Beitrag");
    assert_eq!(events[0].data["author"]["name"], "Name u1");
    assert_eq!(events[1].data["body"], "Erster Beitrag, korrigiert");
    assert_eq!(events[2].data["status"], "removed");
    assert!(events[2].data["body"].is_null() && events[2].data["author"].is_null());
    assert!(events.iter().all(|e| e.data.get("flag_count").is_none()));
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    let shown: Vec<&str> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&held.as_str()) && !shown.contains(&never.as_str()));
    assert!(
        reader
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "nothing more: the held comment and the other article's never reach this stream"
    );
}

async fn closing_and_reopening_the_discussion_reach_its_readers(db: Db) {
    let app = spawn_app_with_article(db).await;
    let mut reader = Reader::opened(&app, "a1").await;
    let (status, body) = app
        .moderate_discussion(
            "a1",
            json!({"action": "close", "reason": "Debatte beendet"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed = reader.next().await;
    assert_eq!(closed.event, "discussion.closed");
    assert_eq!(closed.data, json!({"article_id": "a1", "status": "closed"}));
    let until = app.clock.now() + chrono::Duration::days(2);
    let (status, body) = app
        .moderate_discussion(
            "a1",
            json!({"action": "reopen", "until": until.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reopened = reader.next().await;
    assert_eq!(reopened.event, "discussion.reopened");
    assert!(reopened.id > closed.id);
}

async fn last_event_id_resumes_without_gaps_or_duplicates_or_resets_when_too_old(db: Db) {
    let app = spawn_app_with_article(db).await;
    let mut reader = Reader::opened(&app, "a1").await;
    let mut posted = Vec::new();
    for n in 0..3 {
        posted.push(
            app.comment("a1", &format!("u{n}"), &format!("Beitrag {n}"))
                .await,
        );
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(reader.next().await);
    }
    let resume_after = seen[1].id;
    drop(reader);
    // Written while the reader was away.
    for n in 3..6 {
        posted.push(
            app.comment("a1", &format!("u{n}"), &format!("Beitrag {n}"))
                .await,
        );
    }
    let mut again = Reader::open(&app, "a1", Some(resume_after)).await;
    posted.push(app.comment("a1", "u6", "Beitrag 6").await);
    let mut resumed = Vec::new();
    for _ in 0..5 {
        resumed.push(again.next().await);
    }
    let ids: Vec<&str> = resumed
        .iter()
        .map(|e| e.data["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        posted[2..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(resumed.iter().all(|e| e.event == "comment.created"));
    assert!(
        again
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "each event once"
    );
    drop(again);

    // Only the newest row is kept: a reader further behind is told to reload.
    comment_service::store::live::prune(&app.db, 1)
        .await
        .unwrap();
    let mut late = Reader::open(&app, "a1", Some(resume_after)).await;
    let reset = late.next().await;
    assert_eq!(reset.event, "reset");
    let after_reset = app.comment("a1", "u7", "Nach dem Reset").await;
    let next = late.next().await;
    assert_eq!(
        comment_event(&next),
        ("comment.created", after_reset.as_str())
    );
    assert!(next.id > resumed[4].id);
}

async fn streams_refuse_bad_requests_in_the_error_shape_and_beyond_the_limit(db: Db) {
    let app = spawn_app_with(db, &[("LIVE_MAX_SUBSCRIBERS", "2".to_owned())]).await;
    app.put_recent_article("a1", None).await;
    let (status, body) = json_of(open(&app, "gibt-es-nicht", None, None).await).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = json_of(open(&app, "a%20b", None, None).await).await;
    assert_error(status, &body, 422, "validation_failed");
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/live/articles/a1", app.address))
        .header("Last-Event-ID", "gestern")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_error(status, &body, 400, "bad_request");

    let first = Reader::opened(&app, "a1").await;
    let second = Reader::opened(&app, "a1").await;
    assert_eq!(app.state.live().subscribers(), 2);
    let (status, body) = json_of(open(&app, "a1", None, None).await).await;
    assert_error(status, &body, 503, "unavailable");
    drop(first);
    // A stream whose reader went away gives its place back when the server next writes to it
    // (a new comment here, at the latest the heartbeat).
    let written = std::sync::atomic::AtomicU32::new(0);
    eventually("the first reader's place to be free", || async {
        let n = written.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        app.comment("a1", &format!("w{n}"), "Noch jemand da?").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        (app.state.live().subscribers() == 1).then_some(())
    })
    .await;
    let third = Reader::opened(&app, "a1").await;
    drop((second, third));
}

async fn streams_answer_cors_for_the_allowed_origins_only(db: Db) {
    let app = spawn_app_with(
        db,
        &[(
            "LIVE_ALLOWED_ORIGINS",
            "https://www.krone.at, https://m.krone.at".to_owned(),
        )],
    )
    .await;
    app.put_recent_article("a1", None).await;
    let allowed = open(&app, "a1", None, Some("https://m.krone.at")).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://m.krone.at"
    );
    assert_eq!(allowed.headers()["vary"], "Origin");
    assert_eq!(allowed.headers()["cache-control"], "no-cache");
    let other = open(&app, "a1", None, Some("https://evil.example")).await;
    assert_eq!(other.status(), StatusCode::OK);
    assert!(other.headers().get("access-control-allow-origin").is_none());
    drop((allowed, other));

    let client = reqwest::Client::new();
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/live/articles/a1", app.address),
        )
        .header("Origin", "https://www.krone.at")
        .header("Access-Control-Request-Headers", "last-event-id")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://www.krone.at"
    );
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Last-Event-ID")
    );
}

async fn reactions_reach_readers_as_the_newest_count_at_most_once_a_second(db: Db) {
    let app = spawn_app_with_article(db).await;
    let mut reader = Reader::opened(&app, "a1").await;
    let comment = app.comment("a1", "u1", "Gefällt vielen").await;
    assert_eq!(comment_event(&reader.next().await).1, comment);
    for n in 0..5 {
        let (status, body) = app
            .put_json(
                &format!("/api/v1/comments/{comment}/reactions/r{n}"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut counts = Vec::new();
    while counts.last() != Some(&5) {
        let event = reader.next().await;
        assert_eq!(event.event, "reactions", "{event:?}");
        assert_eq!(event.data["comment_id"], comment.as_str());
        counts.push(event.data["reaction_count"].as_i64().unwrap());
    }
    // How many events the five became depends on how fast they were written (the pump sends
    // a comment's newest count at most once a second: see its unit test); each event carries a
    // newer count than the one before, and none repeats the last.
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]) && counts.len() <= 5,
        "every event a newer count ({counts:?})"
    );
    assert!(
        reader
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "nothing after the final count"
    );
}

/// PostgreSQL only: replicas learn of each other's writes by notification.
mod replicas {
    use super::*;

    async fn two_replicas() -> Option<(TestApp, TestApp)> {
        let db = Db::postgres("two replicas")?;
        let database = TestDatabase::create(&db).await;
        let shared = database.share();
        let a = spawn_app_on(database, &[], None).await;
        let b = spawn_app_on(shared, &[], None).await;
        a.put_recent_article("a1", None).await;
        Some((a, b))
    }

    fn page_ids(page: &Value) -> Vec<String> {
        page["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_comment_posted_on_one_replica_reaches_the_other_replicas_readers_and_its_cached_page()
     {
        let Some((a, b)) = two_replicas().await else {
            return;
        };
        let first = a.comment("a1", "u1", "Vor dem Lesen").await;
        let mut reader = Reader::opened(&b, "a1").await;
        // B caches the page now; its clock does not move in this test.
        let (_, page) = b.get("/api/v1/articles/a1/comments").await;
        assert_eq!(page_ids(&page), vec![first.clone()]);

        let second = a.comment("a1", "u2", "Auf A geschrieben").await;
        let event = reader
            .next_within(Duration::from_secs(5))
            .await
            .expect("the event on B");
        assert_eq!(comment_event(&event), ("comment.created", second.as_str()));
        // The notification that brought the event also forgot B's cached page.
        let (_, page) = b.get("/api/v1/articles/a1/comments").await;
        assert_eq!(page_ids(&page), vec![second, first]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_listener_recovers_when_its_connection_is_killed_and_misses_nothing() {
        let Some((a, b)) = two_replicas().await else {
            return;
        };
        let mut reader = Reader::opened(&b, "a1").await;
        let before = a.comment("a1", "u1", "Vorher").await;
        assert_eq!(comment_event(&reader.next().await).1, before);

        let name = b.state.live().listener_name().to_owned();
        let killed = eventually("the listener's backend to be killed", || async {
            let row =
                a.db.query_one_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                     WHERE application_name = $1",
                    [name.clone().into()],
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            (n == 1).then_some(n)
        })
        .await;
        assert_eq!(killed, 1);
        // Written while B listens no more.
        let mut posted = Vec::new();
        for n in 0..5 {
            posted.push(a.comment("a1", "u2", &format!("Während {n}")).await);
        }
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(comment_event(&reader.next().await).1.to_string());
        }
        assert_eq!(got, posted, "in order, none missed");
        let after = a.comment("a1", "u3", "Danach").await;
        assert_eq!(comment_event(&reader.next().await).1, after);
        assert!(
            reader
                .next_within(Duration::from_millis(1500))
                .await
                .is_none(),
            "none twice"
        );
    }
}
