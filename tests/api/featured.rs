//! Editors' picks: moderators feature comments (audit-logged, told to the website), the filter
//! lists only the picks, and a pick shows at once; on both databases.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, app_with_events, assert_error, ids_of, spawn_app_with_article};
use crate::on_both_databases;

on_both_databases!(
    a_moderator_features_a_comment_audit_logged_and_told_to_the_website,
    the_featured_filter_pages_through_exactly_the_picks_and_shows_a_change_at_once,
);

fn featured_path(comment: &str) -> String {
    format!("/api/v1/comments/{comment}/featured")
}

async fn set_featured(app: &TestApp, comment: &str, on: bool) -> Value {
    let method = if on { Method::PUT } else { Method::DELETE };
    let (status, body) = app
        .call_as_moderator(method, &featured_path(comment), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["featured"], on, "{body}");
    body
}

/// The audit-log entries and the `comment.featured` events about `comment`.
async fn logged_and_told(app: &TestApp, comment: &str) -> (Vec<Value>, Vec<Value>) {
    let (_, log) = app
        .get_as_moderator("/api/v1/moderation/log?limit=100")
        .await;
    let entries = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["comment_id"] == comment && e["action"].as_str().unwrap().contains("feature"))
        .cloned()
        .collect();
    let (_, events) = app.get_as_moderator("/api/v1/events?limit=100").await;
    let told = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "comment.featured" && e["data"]["comment_id"] == comment)
        .map(|e| e["data"].clone())
        .collect();
    (entries, told)
}

async fn a_moderator_features_a_comment_audit_logged_and_told_to_the_website(db: Db) {
    let app = app_with_events(db).await;
    app.put_recent_article("a1", None).await;
    let comment = app.comment("a1", "u1", "Ein kluger Kommentar").await;
    let (_, plain) = app.get(&format!("/api/v1/comments/{comment}")).await;
    assert_eq!(plain["featured"], false);

    let view = set_featured(&app, &comment, true).await;
    assert_eq!(view["id"], comment.as_str());
    set_featured(&app, &comment, true).await;
    let (entries, told) = logged_and_told(&app, &comment).await;
    assert_eq!(entries.len(), 1, "a repeat logs nothing: {entries:?}");
    assert_eq!(entries[0]["action"], "feature");
    assert_eq!(entries[0]["moderator"], "anna");
    assert_eq!(
        told,
        vec![json!({"comment_id": comment, "article_id": "a1", "featured": true})]
    );
    let (_, shown) = app.get(&format!("/api/v1/comments/{comment}")).await;
    assert_eq!(shown["featured"], true);

    set_featured(&app, &comment, false).await;
    set_featured(&app, &comment, false).await;
    let (entries, told) = logged_and_told(&app, &comment).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["action"], "unfeature", "newest first");
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(told.contains(&json!({"comment_id": comment, "article_id": "a1", "featured": false})));

    // Only moderators pick; only visible comments; only comments that exist.
    for method in [Method::PUT, Method::DELETE] {
        let (status, body) = app
            .call(method.clone(), &featured_path(&comment), None)
            .await;
        assert_error(status, &body, 403, "forbidden");
        let (status, body) = app
            .call_as_moderator(method, &featured_path("999999"), None)
            .await;
        assert_error(status, &body, 404, "not_found");
    }
    app.decide_ok(&comment, json!({"action": "hide"})).await;
    let (status, body) = app
        .call_as_moderator(Method::PUT, &featured_path(&comment), None)
        .await;
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "hidden");
}

/// Every page of the picks at `path` with `limit=2`, following the cursors: the ids in order.
async fn page_through(app: &TestApp, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&limit=2&cursor={c}"),
            None => format!("{path}&limit=2"),
        };
        let (status, page) = app.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for c in page["comments"].as_array().unwrap() {
            assert_eq!(c["featured"], true, "{page}");
        }
        ids.extend(ids_of(&page["comments"]).into_iter().map(str::to_string));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}

async fn the_featured_filter_pages_through_exactly_the_picks_and_shows_a_change_at_once(db: Db) {
    let app = spawn_app_with_article(db).await;
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(
            app.comment("a1", &format!("u{i}"), &format!("Kommentar {i}"))
                .await,
        );
    }
    let reply = app.reply("a1", &all[0], "u9", "Antwort").await;
    // Cached before the picks: a pick shows at once all the same.
    let (_, page) = app.get("/api/v1/articles/a1/comments?featured=true").await;
    assert_eq!(page["comments"], json!([]));
    let picks: Vec<String> = [0, 2, 3, 6].iter().map(|&i| all[i].clone()).collect();
    for pick in &picks {
        set_featured(&app, pick, true).await;
    }
    set_featured(&app, &reply, true).await;
    let mut newest = picks.clone();
    newest.reverse();
    assert_eq!(
        page_through(&app, "/api/v1/articles/a1/comments?featured=true").await,
        newest,
        "newest first by default, top-level only"
    );
    assert_eq!(
        page_through(
            &app,
            "/api/v1/articles/a1/comments?featured=true&order=oldest"
        )
        .await,
        picks
    );
    // The whole thread still lists everything, picks marked.
    let (_, page) = app.get("/api/v1/articles/a1/comments?order=oldest").await;
    let marked: Vec<bool> = page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["featured"] == true)
        .collect();
    assert_eq!(marked, vec![true, false, true, true, false, false, true]);
    // Taking one back shows at once too.
    set_featured(&app, &picks[1], false).await;
    let (_, page) = app
        .get("/api/v1/articles/a1/comments?featured=true&order=oldest")
        .await;
    assert_eq!(
        ids_of(&page["comments"]),
        vec![&picks[0], &picks[2], &picks[3]]
    );
    // `featured=false` is the whole thread; anything else is refused.
    let (_, page) = app.get("/api/v1/articles/a1/comments?featured=false").await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 7);
    let (status, body) = app.get("/api/v1/articles/a1/comments?featured=yes").await;
    assert_error(status, &body, 422, "validation_failed");
    assert!(
        body["error"]["details"]["fields"]["featured"].is_string(),
        "{body}"
    );
}
