//! Events to the website: a real HTTP receiver on a loopback port, signed deliveries, retries with
//! backoff (by moving the clock), order per stream, and exactly once with two replicas.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use comment_service::clock::Clock;
use comment_service::jobs::JobName;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Db, TestApp, spawn_app_on, spawn_app_with};
use crate::on_both_databases;

const SECRET: &str = "test-webhook-secret-0123";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// The website's end: records every request and answers with the queued statuses (then 204).
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    jump: Arc<Mutex<Option<(Clock, chrono::Duration)>>>,
    handle: actix_web::dev::ServerHandle,
}

struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    /// Moves a clock on when the next request arrives (a send that took that long).
    jump: Arc<Mutex<Option<(Clock, chrono::Duration)>>>,
}

async fn receive(req: HttpRequest, body: String, shared: web::Data<Shared>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    shared.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    if let Some((clock, by)) = shared.jump.lock().unwrap().take() {
        clock.advance(by);
    }
    let status = shared.answers.lock().unwrap().pop_front().unwrap_or(204);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    async fn start() -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let jump = Arc::new(Mutex::new(None));
        let shared = web::Data::new(Shared {
            received: received.clone(),
            answers: answers.clone(),
            jump: jump.clone(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route("/hook", web::post().to(receive))
        })
        .listen(listener)
        .unwrap()
        .workers(1)
        .disable_signals()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            received,
            answers,
            jump,
            handle,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    /// The next request moves `clock` on by `by` before it is answered.
    fn take_time_on_next(&self, clock: &Clock, by: chrono::Duration) {
        *self.jump.lock().unwrap() = Some((clock.clone(), by));
    }
}

fn webhook_vars(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![
        ("WEBHOOK_URL", receiver.url.clone()),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
        // Runs only when a test asks (or right after an event).
        ("DELIVER_EVENTS_SCHEDULE", "0 0 0 1 1 *".to_owned()),
    ]
}

/// Checks a delivery's Standard Webhooks signature with the shared secret.
fn assert_signed(r: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        r.signature,
        format!("v1,{expected}"),
        "signature of {}",
        r.id
    );
    assert_eq!(r.json()["id"], r.id.as_str());
}

/// One run of deliver-events in this app (after a run the wake-up started, if one is going on).
async fn deliver(app: &TestApp) -> u64 {
    crate::helpers::eventually("a run of deliver-events", || async {
        match app.state.jobs().run(JobName::DeliverEvents).await.unwrap() {
            comment_service::jobs::RunOutcome::Done(n) => Some(n),
            comment_service::jobs::RunOutcome::Busy => None,
        }
    })
    .await
}

/// Waits until the events list `path` (of sent events) holds `count` of them.
async fn all_sent(app: &TestApp, path: &str, count: usize) {
    crate::helpers::eventually("every event delivered", || async {
        let (_, sent) = app.get_as_moderator(path).await;
        (sent["events"].as_array().unwrap().len() == count).then_some(())
    })
    .await;
}

async fn close(app: &TestApp, article: &str) {
    let (status, _) = app
        .moderate_discussion(article, json!({"action": "close", "reason": "Test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

on_both_databases!(
    a_closure_reaches_the_website_signed_and_a_failed_delivery_is_retried_after_the_backoff,
    the_events_of_one_article_arrive_in_order,
    two_replicas_deliver_each_event_once,
    flags_and_decisions_tell_the_website_what_readers_see,
    events_recorded_before_a_restart_are_delivered_once_after_it,
    events_a_run_claimed_but_never_sent_have_no_attempt_counted,
);

async fn a_closure_reaches_the_website_signed_and_a_failed_delivery_is_retried_after_the_backoff(
    db: Db,
) {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(db, &webhook_vars(&receiver)).await;
    let closes_at = app.clock.now() + chrono::Duration::days(1);
    let published = crate::articles::published_for_closing_at(closes_at);
    app.put_article("bald", None, &published.to_rfc3339()).await;
    receiver.answer_next(&[500]);
    app.clock.set(closes_at);
    app.state.jobs().run(JobName::CloseExpired).await.unwrap();

    // The website answers 500 the first time: the event waits for its backoff (2 s).
    crate::helpers::eventually("the first delivery attempt", || async {
        (!receiver.received().is_empty()).then_some(())
    })
    .await;
    assert_eq!(deliver(&app).await, 0, "not due before the backoff");
    let (_, pending) = app.get_as_moderator("/api/v1/events?status=pending").await;
    assert_eq!(pending["events"][0]["type"], "discussion.closed");
    assert_eq!(pending["events"][0]["attempts"], 1);
    assert!(
        pending["events"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(deliver(&app).await, 1);

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].id, received[1].id, "a retry keeps the event id");
    for r in &received {
        assert_signed(r);
    }
    let body = received[1].json();
    assert_eq!(body["type"], "discussion.closed");
    assert_eq!(body["data"]["article_id"], "bald");
    assert_eq!(body["data"]["reason"], "expired");
    let (_, sent) = app.get_as_moderator("/api/v1/events?status=sent").await;
    assert_eq!(sent["events"].as_array().unwrap().len(), 1);
    assert!(sent["events"][0]["delivered_at"].is_string());
    let (status, _) = app.get("/api/v1/events").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "moderators only");
    receiver.handle.stop(false).await;
}

async fn the_events_of_one_article_arrive_in_order(db: Db) {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(db, &webhook_vars(&receiver)).await;
    app.put_recent_article("a1", None).await;
    app.put_recent_article("a2", None).await;
    // The first event of a1 fails; a1's reopening must wait for it, a2's closure need not.
    receiver.answer_next(&[503]);
    close(&app, "a1").await;
    crate::helpers::eventually("the failed attempt", || async {
        (!receiver.received().is_empty()).then_some(())
    })
    .await;
    let until = app.clock.now() + chrono::Duration::days(30);
    let (status, _) = app
        .moderate_discussion(
            "a1",
            json!({"action": "reopen", "until": until.to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    close(&app, "a2").await;
    crate::helpers::eventually("a2's closure", || async {
        (receiver.received().len() >= 2).then_some(())
    })
    .await;
    deliver(&app).await;
    let types = |received: &[Received]| -> Vec<(String, String)> {
        received
            .iter()
            .map(|r| {
                let body = r.json();
                let article = body["data"]["article_id"].as_str().unwrap().to_owned();
                (article, body["type"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let before = types(&receiver.received());
    assert_eq!(
        before,
        [
            ("a1".to_owned(), "discussion.closed".to_owned()),
            ("a2".to_owned(), "discussion.closed".to_owned()),
        ],
        "a1's reopening waits behind its failed closure"
    );
    app.clock.advance(chrono::Duration::seconds(2));
    deliver(&app).await;
    crate::helpers::eventually("a1's two events", || async {
        (receiver.received().len() >= 4).then_some(())
    })
    .await;
    let after = types(&receiver.received()[2..]);
    assert_eq!(
        after,
        [
            ("a1".to_owned(), "discussion.closed".to_owned()),
            ("a1".to_owned(), "discussion.reopened".to_owned()),
        ]
    );
    receiver.handle.stop(false).await;
}

async fn two_replicas_deliver_each_event_once(db: Db) {
    let receiver = Receiver::start().await;
    let vars = webhook_vars(&receiver);
    let one = spawn_app_with(db, &vars).await;
    let two = spawn_app_on(one.database.share(), &vars, None).await;
    for i in 0..12 {
        one.put_recent_article(&format!("a{i}"), None).await;
    }
    // Both processes send right after their closures, and both senders race once more.
    for i in 0..12 {
        close(if i % 2 == 0 { &one } else { &two }, &format!("a{i}")).await;
    }
    let (a, b) = tokio::join!(deliver(&one), deliver(&two));
    all_sent(&one, "/api/v1/events?status=sent&limit=100", 12).await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "twelve distinct events");
    assert_eq!(
        received.len(),
        12,
        "none sent twice (runs delivered {a} and {b})"
    );
    receiver.handle.stop(false).await;
}

/// Closes the discussions `a0`, `a1` and `a2` while the website is down for the first send of
/// each (three events of three streams, one attempt each), then runs a delivery.
async fn close_three_with_refused_sends(app: &TestApp, receiver: &Receiver) {
    for i in 0..3 {
        app.put_recent_article(&format!("a{i}"), None).await;
    }
    receiver.answer_next(&[503, 503, 503]);
    for i in 0..3 {
        close(app, &format!("a{i}")).await;
    }
    crate::helpers::eventually("three refused sends", || async {
        (receiver.received().len() >= 3).then_some(())
    })
    .await;
    deliver(app).await;
}

async fn events_recorded_before_a_restart_are_delivered_once_after_it(db: Db) {
    let receiver = Receiver::start().await;
    let vars = webhook_vars(&receiver);
    let app = spawn_app_with(db, &vars).await;
    close_three_with_refused_sends(&app, &receiver).await;
    // The stopped app keeps the database (its temporary directory) alive.
    app.stop().await;
    let database = app.database.share();
    let clock = app.clock.clone();

    // A new process on the same database, past the backoff: each event once more, in order.
    let restarted = spawn_app_on(database, &vars, None).await;
    clock.advance(chrono::Duration::minutes(1));
    deliver(&restarted).await;
    all_sent(&restarted, "/api/v1/events?status=sent", 3).await;
    let received = receiver.received();
    let delivered: Vec<&Received> = received.iter().skip(3).collect();
    assert_eq!(delivered.len(), 3, "each once after the restart");
    let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
    let first: Vec<&str> = received.iter().take(3).map(|r| r.id.as_str()).collect();
    ids.sort();
    let mut expected = first.clone();
    expected.sort();
    assert_eq!(ids, expected, "the same events, not new ones");
    for r in &delivered {
        assert_signed(r);
    }
    receiver.handle.stop(false).await;
}

async fn flags_and_decisions_tell_the_website_what_readers_see(db: Db) {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(db, &webhook_vars(&receiver)).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", "Grenzwertig").await;
    // Three flags reach the hide threshold: the comment is held.
    for reader in ["l1", "l2", "l3"] {
        let (status, _) = app
            .post_json(
                &format!("/api/v1/comments/{id}/flags"),
                json!({"reporter": {"id": reader}, "reason": "abuse"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = app
        .decide(&id, json!({"action": "hide", "note": "Beleidigung"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let bodies = crate::helpers::eventually("five events", || async {
        let received = receiver.received();
        (received.len() >= 5).then(|| received.iter().map(Received::json).collect::<Vec<_>>())
    })
    .await;
    for r in receiver.received() {
        assert_signed(&r);
    }
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "comment.held",
            "comment.hidden",
            "flag.decided",
            "flag.decided",
            "flag.decided"
        ],
        "in the order they happened"
    );
    assert_eq!(bodies[0]["data"]["comment_id"], id.as_str());
    assert_eq!(bodies[0]["data"]["status"], "pending_review");
    assert_eq!(bodies[1]["data"]["status"], "hidden");
    assert_eq!(bodies[1]["data"]["article_id"], "a1");
    assert_eq!(bodies[4]["data"]["decision"]["action"], "hide");
    assert_eq!(bodies[4]["data"]["decision"]["ground"], "terms");
    assert_eq!(bodies[4]["data"]["decision"]["category"], "other");
    assert!(bodies[2]["data"]["flag_id"].is_string());
    receiver.handle.stop(false).await;
}

async fn events_a_run_claimed_but_never_sent_have_no_attempt_counted(db: Db) {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(db, &webhook_vars(&receiver)).await;
    close_three_with_refused_sends(&app, &receiver).await;
    let attempts = || async {
        let (_, events) = app.get_as_moderator("/api/v1/events").await;
        let mut by_article: Vec<(String, String, i64)> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["data"]["article_id"].as_str().unwrap().to_owned(),
                    e["status"].as_str().unwrap().to_owned(),
                    e["attempts"].as_i64().unwrap(),
                )
            })
            .collect();
        by_article.sort();
        by_article
    };
    assert!(attempts().await.iter().all(|(_, _, n)| *n == 1));

    // Past the backoff one run claims all three, but the first send takes so long that the
    // claim (a minute) has no room for another: the run stops after it.
    app.clock.advance(chrono::Duration::seconds(2));
    receiver.take_time_on_next(&app.clock, chrono::Duration::seconds(55));
    assert_eq!(deliver(&app).await, 1);
    let after = attempts().await;
    let sent: Vec<_> = after.iter().filter(|(_, s, _)| s == "sent").collect();
    assert_eq!(sent.len(), 1, "{after:?}");
    assert_eq!(sent[0].2, 2, "the send that happened counts: {after:?}");
    for (article, status, n) in after.iter().filter(|(_, s, _)| s != "sent") {
        assert_eq!(status, "pending");
        assert_eq!(*n, 1, "{article} was claimed but never sent: {after:?}");
    }

    // Once the claim has ended, the next run sends the other two: one more attempt each.
    app.clock.advance(chrono::Duration::seconds(5));
    assert_eq!(deliver(&app).await, 2);
    let after = attempts().await;
    assert!(
        after.iter().all(|(_, s, n)| s == "sent" && *n == 2),
        "{after:?}"
    );
    assert_eq!(receiver.received().len(), 6);
    receiver.handle.stop(false).await;
}
