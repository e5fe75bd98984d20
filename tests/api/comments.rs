use std::collections::HashSet;

use futures_util::StreamExt as _;
use sea_orm::{ConnectionTrait as _, DbBackend};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, assert_error, json_of, spawn_app, spawn_app_on,
    spawn_app_with, spawn_app_with_article, strings_of,
};
use crate::on_both_databases;

on_both_databases!(
    a_comment_and_its_reply_can_be_posted_listed_and_read,
    bad_comments_are_refused_with_a_reason_per_field,
    ids_and_names_with_line_separators_or_bidi_controls_are_refused,
    malformed_oversized_and_unauthenticated_requests_get_the_error_shape,
    pagination_walks_every_comment_once_in_both_orders,
    replies_are_paginated_oldest_first,
    a_retry_with_the_same_idempotency_key_returns_the_first_response_even_after_a_restart,
    an_author_posting_too_fast_is_rate_limited_with_retry_after,
    the_rate_limit_holds_exactly_under_concurrent_posts,
    the_rate_limit_holds_exactly_across_two_replicas,
    concurrent_posts_to_one_article_on_two_replicas_are_each_counted_once,
    a_post_the_database_refuses_does_not_take_its_batch_with_it,
    the_same_idempotency_key_sent_eight_times_at_once_stores_one_comment,
    authors_edit_within_the_window_and_only_their_own_comments,
    a_deleted_comment_with_replies_stays_as_a_tombstone_without_its_text,
    writing_to_a_closed_discussion_is_refused_with_the_notice,
    health_and_readiness_answer_without_a_token,
);

async fn a_comment_and_its_reply_can_be_posted_listed_and_read(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (status, c) = app
        .post_comment("a1", "u-123", "  Grüß Gott!\r\nZweite Zeile  ")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(c["body"], "Grüß Gott!\nZweite Zeile");
    assert_eq!(
        c["author"],
        json!({"id": "u-123", "name": "Name u-123", "badges": []})
    );
    assert_eq!(c["status"], "visible");
    assert_eq!(c["parent_id"], Value::Null);
    assert_eq!(c["edited_at"], Value::Null);
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        c.get("flag_count").is_none(),
        "the website does not see flag counts"
    );
    let id = c["id"].as_str().unwrap().to_string();
    let reply = app.reply("a1", &id, "u-2", "Antwort").await;

    let (status, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["article"]["comment_count"], 2);
    assert_eq!(
        page["comments"].as_array().unwrap().len(),
        1,
        "replies are not top-level"
    );
    assert_eq!(page["comments"][0]["reply_count"], 1);
    assert_eq!(page["next_cursor"], Value::Null);

    let (_, replies) = app.get(&format!("/api/v1/comments/{id}/replies")).await;
    assert_eq!(replies["comments"][0]["id"], reply.as_str());
    assert_eq!(replies["comments"][0]["parent_id"], id.as_str());

    let (status, one) = app.get(&format!("/api/v1/comments/{reply}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["body"], "Antwort");
    let (_, as_moderator) = app
        .get_as_moderator(&format!("/api/v1/comments/{reply}"))
        .await;
    assert_eq!(as_moderator["flag_count"], 0);

    // A parent from another article is refused.
    app.put_recent_article("a2", None).await;
    let (status, err) = app
        .post_json(
            "/api/v1/articles/a2/comments",
            json!({"author": {"id": "u", "name": "n"}, "body": "x", "parent_id": id}),
        )
        .await;
    assert_error(status, &err, 422, "validation_failed");
    assert!(err["error"]["details"]["fields"]["parent_id"].is_string());
}

async fn ids_and_names_with_line_separators_or_bidi_controls_are_refused(db: Db) {
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "u1", "Hallo").await;
    for c in [
        '\u{2028}', '\u{2029}', '\u{200F}', '\u{202E}', '\u{2067}', '\u{061C}',
    ] {
        let sneaky = format!("Leser{c}in");
        for (author, field) in [
            (json!({"id": sneaky, "name": "Leserin"}), "author.id"),
            (json!({"id": "u2", "name": sneaky}), "author.name"),
        ] {
            let (status, err) = app
                .post_json(
                    "/api/v1/articles/a1/comments",
                    json!({"author": author, "body": "Hallo"}),
                )
                .await;
            assert_error(status, &err, 422, "validation_failed");
            assert!(
                err["error"]["details"]["fields"][field].is_string(),
                "{c:?}: {field} in {err}"
            );
        }
        let (status, err) = app
            .post_json(
                &format!("/api/v1/comments/{id}/flags"),
                json!({"reporter": {"id": sneaky}, "reason": "spam"}),
            )
            .await;
        assert_error(status, &err, 422, "validation_failed");
        assert!(
            err["error"]["details"]["fields"]["reporter.id"].is_string(),
            "{c:?}: {err}"
        );
    }
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(article["comment_count"], 1, "nothing more was stored");
    let (_, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(queue["items"], json!([]), "no flag was stored");
}

async fn bad_comments_are_refused_with_a_reason_per_field(db: Db) {
    let app = spawn_app_with(db, &[("COMMENT_MAX_CHARS", "20".to_string())]).await;
    app.put_recent_article("a1", None).await;
    let author = json!({"id": "u1", "name": "Leser"});
    let cases = [
        (json!({"author": author, "body": ""}), "body"),
        (json!({"author": author, "body": "   \n "}), "body"),
        (json!({"author": author, "body": "x".repeat(21)}), "body"),
        (json!({"author": author, "body": "bell \u{7}"}), "body"),
        (json!({"author": author}), "body"),
        (json!({"body": "Hallo"}), "author"),
        (
            json!({"author": {"id": "", "name": "n"}, "body": "Hallo"}),
            "author.id",
        ),
        (
            json!({"author": {"id": "x".repeat(129), "name": "n"}, "body": "Hallo"}),
            "author.id",
        ),
        (
            json!({"author": {"id": "u", "name": "n".repeat(65)}, "body": "Hallo"}),
            "author.name",
        ),
        (
            json!({"author": author, "body": "Hallo", "parent_id": "abc"}),
            "parent_id",
        ),
        (
            json!({"author": author, "body": "Hallo", "parent_id": "424242"}),
            "parent_id",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = app
            .post_json("/api/v1/articles/a1/comments", body.clone())
            .await;
        assert_error(status, &err, 422, "validation_failed");
        assert!(
            err["error"]["details"]["fields"][field].is_string(),
            "{field} in {err} for {body}"
        );
    }
    let (status, ok) = app.post_comment("a1", "u1", &"ä".repeat(20)).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(
        article["comment_count"], 1,
        "refused comments were not stored"
    );
}

async fn malformed_oversized_and_unauthenticated_requests_get_the_error_shape(db: Db) {
    let app = spawn_app_with_article(db).await;
    let url = format!("{}/api/v1/articles/a1/comments", app.address);
    let send = |body: String, token: Option<&'static str>| {
        let mut req = app
            .client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let (status, err) = json_of(send("{not json".into(), Some(SERVICE_TOKEN)).await.unwrap()).await;
    assert_error(status, &err, 400, "bad_request");
    let (status, err) = json_of(
        send(r#"{"author": "u1", "body": 5}"#.into(), Some(SERVICE_TOKEN))
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &err, 400, "bad_request");
    let big =
        json!({"author": {"id": "u", "name": "n"}, "body": "x".repeat(70 * 1024)}).to_string();
    let (status, err) = json_of(send(big, Some(SERVICE_TOKEN)).await.unwrap()).await;
    assert_error(status, &err, 413, "payload_too_large");
    let (status, err) = json_of(send("{}".into(), None).await.unwrap()).await;
    assert_error(status, &err, 401, "unauthorized");
    let (status, err) = json_of(send("{}".into(), Some("not-a-real-token")).await.unwrap()).await;
    assert_error(status, &err, 401, "unauthorized");
    // A PUT of an article with a too-large JSON body.
    let big = json!({"title": "x".repeat(70 * 1024), "url": "https://x.at", "published_at": "2026-01-01T00:00:00Z"});
    let (status, err) = app.put_json("/api/v1/articles/a1", big).await;
    assert_error(status, &err, 413, "payload_too_large");
    // The service token may not do a moderator's work.
    let (status, err) = app
        .post_json("/api/v1/articles/a1/discussion", json!({"action": "close"}))
        .await;
    assert_error(status, &err, 403, "forbidden");
    let (status, err) = app.get("/api/v1/articles/a1/comments?cursor=%%%").await;
    assert!(status == StatusCode::BAD_REQUEST, "{status} {err}");
    let (status, err) = app.get("/api/v1/articles/a1/comments?cursor=bm9wZQ").await;
    assert_error(status, &err, 400, "bad_request");
    let (status, err) = app.get("/api/v1/articles/a1/comments?limit=500").await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = app.get("/api/v1/articles/a1/comments?order=best").await;
    assert_error(status, &err, 422, "validation_failed");
}

async fn collect_pages(app: &crate::helpers::TestApp, first: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut path = first.to_string();
    loop {
        let (status, page) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        for c in page["comments"].as_array().unwrap() {
            ids.push(c["id"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}cursor={cursor}");
            }
            None => break,
        }
    }
    (ids, pages)
}

async fn pagination_walks_every_comment_once_in_both_orders(db: Db) {
    let app = spawn_app_with_article(db).await;
    let mut posted = Vec::new();
    for i in 0..23 {
        posted.push(
            app.comment("a1", &format!("author-{i}"), &format!("Kommentar {i}"))
                .await,
        );
    }
    let (newest, pages) = collect_pages(&app, "/api/v1/articles/a1/comments?limit=5").await;
    assert_eq!(pages, 5);
    let mut expected = posted.clone();
    expected.reverse();
    assert_eq!(newest, expected, "newest first, none missing, none twice");
    let (oldest, _) =
        collect_pages(&app, "/api/v1/articles/a1/comments?order=oldest&limit=5").await;
    assert_eq!(oldest, posted);
    assert_eq!(oldest.iter().collect::<HashSet<_>>().len(), 23);
    // A cursor of one order is refused by the other.
    let (_, page) = app.get("/api/v1/articles/a1/comments?limit=5").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, err) = app
        .get(&format!(
            "/api/v1/articles/a1/comments?order=oldest&cursor={cursor}"
        ))
        .await;
    assert_error(status, &err, 400, "bad_request");
}

async fn replies_are_paginated_oldest_first(db: Db) {
    let app = spawn_app_with_article(db).await;
    let parent = app.comment("a1", "p", "Frage").await;
    let mut replies = Vec::new();
    for i in 0..7 {
        replies.push(app.reply("a1", &parent, &format!("r{i}"), "Antwort").await);
    }
    let (ids, pages) =
        collect_pages(&app, &format!("/api/v1/comments/{parent}/replies?limit=3")).await;
    assert_eq!(pages, 3);
    assert_eq!(ids, replies);
}

async fn a_retry_with_the_same_idempotency_key_returns_the_first_response_even_after_a_restart(
    db: Db,
) {
    let app = spawn_app_with_article(db).await;
    let body = json!({"author": {"id": "u1", "name": "Leser"}, "body": "Einmal bitte"});
    let post = |key: &'static str, body: Value| {
        app.client
            .post(format!("{}/api/v1/articles/a1/comments", app.address))
            .bearer_auth(SERVICE_TOKEN)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let (s1, first) = json_of(post("key-1", body.clone()).await.unwrap()).await;
    let (s2, second) = json_of(post("key-1", body.clone()).await.unwrap()).await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(s2, StatusCode::CREATED);
    assert_eq!(first, second);
    let (status, err) = json_of(
        post(
            "key-1",
            json!({"author": {"id": "u1", "name": "Leser"}, "body": "Anders"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_error(status, &err, 409, "idempotency_conflict");

    // Restart: a new process on the same database still knows the key.
    app.stop().await;
    let restarted = spawn_app_on(app.database, &[], None).await;
    let (s3, third) = json_of(
        restarted
            .client
            .post(format!("{}/api/v1/articles/a1/comments", restarted.address))
            .bearer_auth(SERVICE_TOKEN)
            .header("Idempotency-Key", "key-1")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s3, StatusCode::CREATED);
    assert_eq!(third, first);
    let (_, page) = restarted.get("/api/v1/articles/a1/comments").await;
    assert_eq!(
        page["comments"].as_array().unwrap().len(),
        1,
        "exactly one comment was created"
    );
}

/// The author `eilig` posts "Nummer 6" to `a1`.
async fn post_sixth(app: &crate::helpers::TestApp) -> reqwest::Response {
    app.request(
        Method::POST,
        "/api/v1/articles/a1/comments",
        Some(SERVICE_TOKEN),
        Some(json!({"author": {"id": "eilig", "name": "E"}, "body": "Nummer 6"})),
    )
    .await
}

async fn an_author_posting_too_fast_is_rate_limited_with_retry_after(db: Db) {
    let app = spawn_app_with_article(db).await;
    for i in 0..5 {
        let (status, _) = app
            .post_comment("a1", "eilig", &format!("Nummer {i}"))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let response = post_sixth(&app).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, 60, "the five were posted at this very instant");
    let (status, err) = json_of(response).await;
    assert_error(status, &err, 429, "rate_limited");
    // Another author is not affected.
    let (status, _) = app.post_comment("a1", "geduldig", "Hallo").await;
    assert_eq!(status, StatusCode::CREATED);
    // 45 s later the wait is 15 s; once the minute has passed, the author may post again.
    app.clock.advance(chrono::Duration::seconds(45));
    let response = post_sixth(&app).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "15");
    app.clock.advance(chrono::Duration::seconds(15));
    let (status, _) = app.post_comment("a1", "eilig", "Nummer 6").await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Posts `n` comments by one author at once, spread over the apps (with and without an
/// `Idempotency-Key`, which take different paths), and counts the answers by status.
async fn post_concurrently(apps: &[&crate::helpers::TestApp], n: usize) -> (usize, usize) {
    let mut tasks = Vec::new();
    for i in 0..n {
        let app = apps[i % apps.len()];
        let mut req = app
            .client
            .post(format!("{}/api/v1/articles/a1/comments", app.address))
            .bearer_auth(SERVICE_TOKEN)
            .json(&json!({"author": {"id": "hastig", "name": "H"}, "body": format!("Nummer {i}")}));
        if i % 2 == 1 {
            req = req.header("Idempotency-Key", format!("key-{i}"));
        }
        tasks.push(tokio::spawn(req.send()));
    }
    let (mut created, mut limited) = (0, 0);
    for task in tasks {
        let response = task.await.expect("task").expect("response");
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!(
                "unexpected {other}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    (created, limited)
}

async fn the_rate_limit_holds_exactly_under_concurrent_posts(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (created, limited) = post_concurrently(&[&app], 20).await;
    assert_eq!((created, limited), (5, 15), "20 concurrent posts, limit 5");
}

async fn the_rate_limit_holds_exactly_across_two_replicas(db: Db) {
    let first = spawn_app(db).await;
    first.put_recent_article("a1", None).await;
    let second = spawn_app_on(first.database.share(), &[], None).await;
    let (created, limited) = post_concurrently(&[&first, &second], 20).await;
    assert_eq!(
        (created, limited),
        (5, 15),
        "20 concurrent posts on two replicas"
    );
    let (_, page) = first.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["comments"].as_array().map(Vec::len), Some(5));
}

/// A hot story: many posts at once to one article, from two processes, each on its own
/// connections. The count lives on per-session shards; it must still come out exact, and go
/// down with a hidden comment.
async fn concurrent_posts_to_one_article_on_two_replicas_are_each_counted_once(db: Db) {
    let first = spawn_app(db).await;
    first.put_recent_article("hot", None).await;
    let second = spawn_app_on(first.database.share(), &[], None).await;
    let apps = [&first, &second];
    let posts = (0..48).map(|i| {
        let app = apps[i % 2];
        async move {
            let (status, body) = app
                .post_comment("hot", &format!("leser-{i}"), &format!("Meinung Nummer {i}"))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().unwrap().to_owned()
        }
    });
    let ids: Vec<String> = futures_util::stream::iter(posts)
        .buffer_unordered(24)
        .collect()
        .await;
    let (_, article) = first.get("/api/v1/articles/hot").await;
    assert_eq!(article["comment_count"], 48, "{article}");
    let (_, page) = second.get("/api/v1/articles/hot/comments?limit=1").await;
    assert_eq!(page["article"]["comment_count"], 48, "{page}");
    let (status, body) = first.decide(&ids[0], json!({"action": "hide"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // At once on the replica that decided; on the other one (which cached the row with its
    // page) as soon as the change's notification arrives, without the clock moving.
    assert_eq!(listed_count(&first, "hot").await, 47);
    crate::helpers::eventually("the other replica to forget its cached row", || async {
        (listed_count(&second, "hot").await == 47).then_some(())
    })
    .await;
}

/// The comment count `GET /articles?ids=` gives for `article` on `app`.
async fn listed_count(app: &crate::helpers::TestApp, article: &str) -> serde_json::Value {
    let (_, listed) = app.get(&format!("/api/v1/articles?ids={article}")).await;
    listed["articles"][0]["comment_count"].clone()
}

/// Posts are written in batches; when the database refuses one post of a batch (here a trigger
/// the test adds), the batch is written again post by post: that one fails, the others are
/// stored and counted.
async fn a_post_the_database_refuses_does_not_take_its_batch_with_it(db: Db) {
    let app = spawn_app_with_article(db).await;
    let trigger = match app.db.get_database_backend() {
        DbBackend::Postgres => vec![
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'poisoned'; END $$",
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON comments FOR EACH ROW \
             WHEN (NEW.body = 'Gift') EXECUTE FUNCTION refuse_poison()",
        ],
        _ => vec![
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON comments WHEN NEW.body = 'Gift' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
        ],
    };
    for sql in trigger {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let posts = (0..24).map(|i| {
        let app = &app;
        async move {
            let body = if i == 7 {
                "Gift".to_owned()
            } else {
                format!("Beitrag {i}")
            };
            let (status, _) = app.post_comment("a1", &format!("leser-{i}"), &body).await;
            (i, status)
        }
    });
    let answers: Vec<(usize, StatusCode)> = futures_util::stream::iter(posts)
        .buffer_unordered(24)
        .collect()
        .await;
    for (i, status) in &answers {
        let expected = if *i == 7 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::CREATED
        };
        assert_eq!(*status, expected, "post {i}");
    }
    let (_, page) = app.get("/api/v1/articles/a1/comments?limit=100").await;
    assert_eq!(page["comments"].as_array().map(Vec::len), Some(23));
    assert_eq!(page["article"]["comment_count"], 23);
}

/// Eight requests with one key at once, keyed posts among unkeyed ones: they meet in a batch
/// (the second record of the key fails it, and it is written post by post), and one comment is
/// stored, every keyed request answered with it.
async fn the_same_idempotency_key_sent_eight_times_at_once_stores_one_comment(db: Db) {
    let app = spawn_app_with_article(db).await;
    let requests = (0..16).map(|i| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .post(format!("{}/api/v1/articles/a1/comments", app.address))
                .bearer_auth(SERVICE_TOKEN);
            let body = if i % 2 == 0 {
                request = request.header("Idempotency-Key", "same-key");
                json!({"author": {"id": "u1", "name": "Leser"}, "body": "Einmal bitte"})
            } else {
                json!({"author": {"id": format!("u-{i}"), "name": "Leser"}, "body": format!("Nebenbei {i}")})
            };
            (i, json_of(request.json(&body).send().await.unwrap()).await)
        }
    });
    let answers: Vec<(usize, (StatusCode, Value))> = futures_util::stream::iter(requests)
        .buffer_unordered(16)
        .collect()
        .await;
    let keyed: Vec<&Value> = answers
        .iter()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, (status, body))| {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            body
        })
        .collect();
    assert!(keyed.iter().all(|b| *b == keyed[0]), "{keyed:?}");
    for (i, (status, body)) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "post {i}: {body}");
    }
    let (_, page) = app.get("/api/v1/articles/a1/comments?limit=100").await;
    let bodies: Vec<&str> = strings_of(&page["comments"], "body");
    assert_eq!(bodies.iter().filter(|b| **b == "Einmal bitte").count(), 1);
    assert_eq!(bodies.len(), 9, "{bodies:?}");
}

async fn authors_edit_within_the_window_and_only_their_own_comments(db: Db) {
    let app = spawn_app(db.clone()).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "u1", "Tippfeler").await;
    let path = format!("/api/v1/comments/{id}");
    let (status, edited) = app
        .patch_json(&path, json!({"author_id": "u1", "body": "Tippfehler"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["body"], "Tippfehler");
    assert!(edited["edited_at"].is_string());
    let (status, err) = app
        .patch_json(&path, json!({"author_id": "u2", "body": "Fremd"}))
        .await;
    assert_error(status, &err, 403, "forbidden");
    let (status, err) = app
        .patch_json(&path, json!({"author_id": "u1", "body": ""}))
        .await;
    assert_error(status, &err, 422, "validation_failed");
    // The window is 15 minutes from posting: open a microsecond before its end, shut at it.
    app.clock
        .advance(chrono::Duration::minutes(15) - chrono::Duration::microseconds(1));
    let (status, _) = app
        .patch_json(
            &path,
            json!({"author_id": "u1", "body": "Tippfehler, korrigiert"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(chrono::Duration::microseconds(1));
    let (status, err) = app
        .patch_json(&path, json!({"author_id": "u1", "body": "Zu spät"}))
        .await;
    assert_error(status, &err, 403, "forbidden");

    let strict = spawn_app_with(db, &[("COMMENT_EDIT_MINUTES", "0".to_string())]).await;
    strict.put_recent_article("a1", None).await;
    let id = strict.comment("a1", "u1", "Zu spät").await;
    let (status, err) = strict
        .patch_json(
            &format!("/api/v1/comments/{id}"),
            json!({"author_id": "u1", "body": "Neu"}),
        )
        .await;
    assert_error(status, &err, 403, "forbidden");
}

async fn a_deleted_comment_with_replies_stays_as_a_tombstone_without_its_text(db: Db) {
    let app = spawn_app_with_article(db).await;
    let parent = app.comment("a1", "u1", "Geheimer Text").await;
    app.reply("a1", &parent, "u2", "Antwort").await;
    let lonely = app.comment("a1", "u3", "Allein").await;

    let (status, err) = app
        .delete_json(
            &format!("/api/v1/comments/{parent}"),
            json!({"author_id": "u2"}),
        )
        .await;
    assert_error(status, &err, 403, "forbidden");
    for id in [&parent, &lonely] {
        let author = if *id == parent { "u1" } else { "u3" };
        let (status, _) = app
            .delete_json(
                &format!("/api/v1/comments/{id}"),
                json!({"author_id": author}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, _) = app
        .delete_json(
            &format!("/api/v1/comments/{lonely}"),
            json!({"author_id": "u3"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "deleting twice is harmless");

    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(
        page["article"]["comment_count"], 1,
        "only the reply is still visible"
    );
    let comments = page["comments"].as_array().unwrap();
    assert_eq!(
        comments.len(),
        1,
        "the deleted comment without replies is gone: {page}"
    );
    let tomb = &comments[0];
    assert_eq!(tomb["id"], parent.as_str());
    assert_eq!(tomb["status"], "removed");
    assert_eq!(tomb["body"], Value::Null);
    assert_eq!(tomb["author"], Value::Null);
    assert_eq!(tomb["reply_count"], 1);
    assert!(!page.to_string().contains("Geheimer Text"));

    let (_, moderated) = app.get_as_moderator("/api/v1/articles/a1/comments").await;
    let all = moderated["comments"].as_array().unwrap();
    assert_eq!(all.len(), 2, "moderators see everything");
    assert!(
        all.iter()
            .any(|c| c["body"] == "Geheimer Text" && c["status"] == "deleted")
    );
    let _ = MODERATOR_TOKEN;
}

async fn writing_to_a_closed_discussion_is_refused_with_the_notice(db: Db) {
    let app = spawn_app(db).await;
    app.put_topic("ausland", "Ausland").await;
    app.put_recent_article("neu", Some("ausland")).await;
    app.put_article("alt", Some("ausland"), "2019-04-26T10:51:00+02:00")
        .await;
    let (status, err) = app.post_comment("alt", "u1", "Hallo?").await;
    assert_error(status, &err, 403, "discussion_closed");
    let notice = &err["error"]["details"]["notice"];
    assert!(
        notice["message"]
            .as_str()
            .unwrap()
            .starts_with("Da dieser Artikel älter als 18 Monate ist")
    );
    assert_eq!(notice["current_articles"][0]["id"], "neu");
    assert_eq!(notice["contact"]["email"], "forum@krone.at");
}

async fn health_and_readiness_answer_without_a_token(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = json_of(app.request(Method::GET, "/healthz", None, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, body) = json_of(app.request(Method::GET, "/readyz", None, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}
