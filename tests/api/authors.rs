//! Authors: the record per author id, its counts, and the statuses moderators give (premod,
//! suspended until a time, banned), on both databases.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error, ids_of, spawn_app, spawn_app_with_article};
use crate::on_both_databases;

on_both_databases!(
    an_author_record_counts_what_happened_to_their_comments,
    a_banned_author_may_not_post_or_edit_but_may_flag,
    a_suspension_ends_by_itself_exactly_at_until,
    a_premod_authors_comments_wait_for_review_without_an_email,
    a_known_troll_is_stopped_before_their_first_comment,
    status_changes_are_checked_and_audit_logged,
    an_authors_comments_are_listed_newest_first_with_their_article,
);

async fn author(app: &TestApp, id: &str) -> (StatusCode, Value) {
    app.get_as_moderator(&format!("/api/v1/authors/{id}")).await
}

async fn set_status(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    app.put_json_as_moderator(&format!("/api/v1/authors/{id}/status"), body)
        .await
}

async fn edit(app: &TestApp, comment: &str, author: &str, body: &str) -> (StatusCode, Value) {
    app.patch_json(
        &format!("/api/v1/comments/{comment}"),
        json!({"author_id": author, "body": body}),
    )
    .await
}

async fn an_author_record_counts_what_happened_to_their_comments(db: Db) {
    let app = spawn_app_with_article(db).await;
    let first_seen = app.clock.now();
    let ids = [
        app.comment("a1", "u-1", "eins").await,
        app.comment("a1", "u-1", "zwei").await,
        app.comment("a1", "u-1", "drei").await,
        app.comment("a1", "u-1", "vier").await,
    ];
    app.clock.advance(Duration::minutes(1));
    // The latest name is kept.
    let (status, _) = app
        .post_json(
            "/api/v1/articles/a1/comments",
            json!({"author": {"id": "u-1", "name": "Neuer Name"}, "body": "fünf"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for reporter in ["r-1", "r-2"] {
        let (status, _) = app
            .post_json(
                &format!("/api/v1/comments/{}/flags", ids[0]),
                json!({"reporter": {"id": reporter}, "reason": "spam"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    app.decide_ok(&ids[0], json!({"action": "hide"})).await;
    app.decide_ok(&ids[1], json!({"action": "delete"})).await;
    app.decide_ok(&ids[2], json!({"action": "approve"})).await;
    let (status, _) = app
        .delete_json(
            &format!("/api/v1/comments/{}", ids[3]),
            json!({"author_id": "u-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, body) = author(&app, "u-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], "u-1");
    assert_eq!(body["name"], "Neuer Name");
    assert_eq!(body["status"], "active");
    assert_eq!(body["until"], Value::Null);
    assert_eq!(body["reason"], Value::Null);
    assert_eq!(
        body["first_seen_at"],
        first_seen.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert_eq!(
        body["stats"],
        json!({"comments": 5, "visible": 2, "approved": 1, "hidden": 1,
               "deleted_by_moderator": 1, "deleted_by_author": 1, "flags_received": 2, "held": 0})
    );

    let (status, body) = author(&app, "u-unknown").await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = app.get("/api/v1/authors/u-1").await;
    assert_error(status, &body, 403, "forbidden");
}

async fn a_banned_author_may_not_post_or_edit_but_may_flag(db: Db) {
    let app = spawn_app_with_article(db).await;
    let own = app.comment("a1", "troll", "noch harmlos").await;
    let other = app.comment("a1", "u-2", "ein Kommentar").await;
    let (status, body) = set_status(
        &app,
        "troll",
        json!({"status": "banned", "reason": "Hetze"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "banned");
    assert_eq!(body["reason"], "Hetze");

    let (status, body) = app.post_comment("a1", "troll", "schon wieder da").await;
    assert_error(status, &body, 403, "author_banned");
    assert_eq!(body["error"]["details"]["until"], Value::Null);
    let (status, body) = edit(&app, &own, "troll", "geändert").await;
    assert_error(status, &body, 403, "author_banned");
    // Flagging is still allowed, and the existing comment stays as it is.
    let (status, body) = app
        .post_json(
            &format!("/api/v1/comments/{other}/flags"),
            json!({"reporter": {"id": "troll"}, "reason": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, comment) = app.get(&format!("/api/v1/comments/{own}")).await;
    assert_eq!(comment["status"], "visible");
    assert_eq!(comment["body"], "noch harmlos");

    // Lifted again: the author may post.
    let (status, _) = set_status(&app, "troll", json!({"status": "active"})).await;
    assert_eq!(status, StatusCode::OK);
    app.comment("a1", "troll", "wieder erlaubt").await;
}

async fn a_suspension_ends_by_itself_exactly_at_until(db: Db) {
    let app = spawn_app_with_article(db).await;
    let until = app.clock.now() + Duration::days(3);
    let (status, body) = set_status(
        &app,
        "u-7",
        json!({"status": "suspended", "until": until.to_rfc3339(), "reason": "drei Tage Pause"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let until_wire = until.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    assert_eq!(body["status"], "suspended");
    assert_eq!(body["until"], until_wire);

    let (status, body) = app.post_comment("a1", "u-7", "darf ich?").await;
    assert_error(status, &body, 403, "author_suspended");
    assert_eq!(body["error"]["details"]["until"], until_wire);

    app.clock.set(until - Duration::microseconds(1));
    let (status, body) = app.post_comment("a1", "u-7", "jetzt?").await;
    assert_error(status, &body, 403, "author_suspended");

    app.clock.set(until);
    let (status, body) = app.post_comment("a1", "u-7", "jetzt!").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, body) = author(&app, "u-7").await;
    assert_eq!(body["status"], "active");
    assert_eq!(body["until"], Value::Null);
}

async fn a_premod_authors_comments_wait_for_review_without_an_email(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (status, _) = set_status(&app, "u-p", json!({"status": "premod"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post_comment("a1", "u-p", "Bitte prüfen").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending_review");
    assert_eq!(
        body["body"], "Bitte prüfen",
        "the author's own answer shows the text"
    );
    assert!(body.get("detections").is_none(), "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert!(
        ids_of(&page["comments"]).is_empty(),
        "invisible to readers: {page}"
    );
    assert_eq!(page["article"]["comment_count"], 0);

    let (_, queue) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=held")
        .await;
    assert_eq!(queue["items"][0]["comment"]["id"], id.as_str(), "{queue}");
    assert_eq!(queue["items"][0]["reasons"], json!(["premod_author"]));
    assert_eq!(
        queue["items"][0]["detections"],
        json!([{"rule": "premod_author"}])
    );
    let (_, outbox) = app
        .get_as_moderator("/api/v1/moderation/notifications")
        .await;
    assert_eq!(outbox["notifications"], json!([]), "no email for premod");

    let (status, _) = app.decide(&id, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(ids_of(&page["comments"]), [id.as_str()]);
    assert_eq!(page["article"]["comment_count"], 1);
    let (_, body) = author(&app, "u-p").await;
    assert_eq!(body["stats"]["approved"], 1);
    assert_eq!(body["stats"]["held"], 0);
}

async fn a_known_troll_is_stopped_before_their_first_comment(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (status, body) = set_status(
        &app,
        "troll-99",
        json!({"status": "banned", "reason": "bekannter Störer"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], Value::Null);
    assert_eq!(body["stats"]["comments"], 0);
    let (status, body) = app.post_comment("a1", "troll-99", "hallo").await;
    assert_error(status, &body, 403, "author_banned");
    let (_, body) = author(&app, "troll-99").await;
    assert_eq!(
        body["stats"]["comments"], 0,
        "a refused comment is not counted"
    );
}

async fn status_changes_are_checked_and_audit_logged(db: Db) {
    let app = spawn_app(db).await;
    let past = app.clock.now() - Duration::minutes(1);
    for (body, field) in [
        (json!({"status": "suspended", "reason": "x"}), "until"),
        (
            json!({"status": "suspended", "until": past.to_rfc3339(), "reason": "x"}),
            "until",
        ),
        (
            json!({"status": "suspended", "until": "morgen", "reason": "x"}),
            "until",
        ),
        (json!({"status": "banned"}), "reason"),
        (json!({"status": "banned", "reason": "   "}), "reason"),
        (json!({"status": "gesperrt", "reason": "x"}), "status"),
        (json!({"reason": "x"}), "status"),
    ] {
        let (status, error) = set_status(&app, "u-1", body.clone()).await;
        assert_error(status, &error, 422, "validation_failed");
        assert!(
            error["error"]["details"]["fields"][field].is_string(),
            "{body} → {error}"
        );
    }
    let (status, error) = author(&app, "u-1").await;
    assert_error(status, &error, 404, "not_found");
    let (status, error) = app
        .put_json("/api/v1/authors/u-1/status", json!({"status": "active"}))
        .await;
    assert_error(status, &error, 403, "forbidden");

    let until = app.clock.now() + Duration::hours(1);
    for body in [
        json!({"status": "premod"}),
        json!({"status": "suspended", "until": until.to_rfc3339(), "reason": "Pause"}),
        json!({"status": "banned", "reason": "Hetze"}),
        json!({"status": "active"}),
    ] {
        let (status, _) = set_status(&app, "u-1", body).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let entries: Vec<(&str, &str, &str, &Value)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["author_id"].as_str().unwrap(),
                e["moderator"].as_str().unwrap(),
                &e["note"],
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("author_active", "u-1", "anna", &Value::Null),
            ("author_banned", "u-1", "anna", &json!("Hetze")),
            ("author_suspended", "u-1", "anna", &json!("Pause")),
            ("author_premod", "u-1", "anna", &Value::Null),
        ]
    );
}

async fn an_authors_comments_are_listed_newest_first_with_their_article(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.put_recent_article("a2", None).await;
    let mut ids = Vec::new();
    for (i, article) in ["a1", "a2", "a1"].iter().enumerate() {
        ids.push(app.comment(article, "u-1", &format!("Kommentar {i}")).await);
    }
    app.comment("a1", "u-2", "von jemand anderem").await;
    app.decide_ok(&ids[1], json!({"action": "hide"})).await;

    let (status, page) = app
        .get_as_moderator("/api/v1/authors/u-1/comments?limit=2")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["comment"]["id"], ids[2].as_str());
    assert_eq!(items[0]["article"]["id"], "a1");
    assert_eq!(items[1]["comment"]["id"], ids[1].as_str());
    assert_eq!(items[1]["comment"]["status"], "hidden");
    assert_eq!(items[1]["comment"]["body"], "Kommentar 1");
    assert_eq!(items[1]["article"]["id"], "a2");
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let (_, page) = app
        .get_as_moderator(&format!(
            "/api/v1/authors/u-1/comments?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(page["items"][0]["comment"]["id"], ids[0].as_str());
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, body) = app
        .get_as_moderator("/api/v1/authors/nobody/comments")
        .await;
    assert_error(status, &body, 404, "not_found");
}
