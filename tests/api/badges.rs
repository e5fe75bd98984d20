//! Author labels: the website gives `author.badges` with a post (`staff`, `expert`,
//! `subscriber`), every view of the comment shows them, other labels are refused, and they go
//! with an erased author's data; on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with_article};
use crate::on_both_databases;

on_both_databases!(
    every_view_of_a_comment_shows_its_authors_labels,
    labels_other_than_the_known_ones_are_refused_and_nothing_is_posted,
    an_erased_authors_labels_go_with_their_data,
);

async fn post(app: &TestApp, author: Value, body: &str) -> (StatusCode, Value) {
    app.post_json(
        "/api/v1/articles/a1/comments",
        json!({"author": author, "body": body}),
    )
    .await
}

/// The first page of the article's comments (as the website reads it).
async fn listed(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["comments"].as_array().unwrap().clone()
}

fn labels_of(view: &Value) -> Value {
    view["author"]["badges"].clone()
}

async fn every_view_of_a_comment_shows_its_authors_labels(db: Db) {
    let app = spawn_app_with_article(db).await;
    // Given in any order and twice: shown once each, in the fixed order.
    let (status, staff) = post(
        &app,
        json!({"id": "u-red", "name": "Redaktion", "badges": ["subscriber", "staff", "staff"]}),
        "Wir haben den Artikel ergänzt.",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{staff}");
    assert_eq!(labels_of(&staff), json!(["staff", "subscriber"]));
    let staff_id = staff["id"].as_str().unwrap().to_string();
    // None given, or an empty list: no labels.
    let (status, plain) = post(&app, json!({"id": "u-1", "name": "Leser"}), "Danke!").await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(labels_of(&plain), json!([]));
    let (status, empty) = post(
        &app,
        json!({"id": "u-2", "name": "Leserin", "badges": []}),
        "Interessant.",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{empty}");
    assert_eq!(labels_of(&empty), json!([]));
    let reply = app
        .call(
            reqwest::Method::POST,
            "/api/v1/articles/a1/comments",
            Some(
                json!({"author": {"id": "u-exp", "name": "Dr. Expertin", "badges": ["expert"]},
                "body": "Aus fachlicher Sicht stimmt das.", "parent_id": staff_id}),
            ),
        )
        .await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);

    // The comment itself, for the website and for moderators.
    let (_, one) = app.get(&format!("/api/v1/comments/{staff_id}")).await;
    assert_eq!(labels_of(&one), json!(["staff", "subscriber"]));
    let (_, one) = app
        .get_as_moderator(&format!("/api/v1/comments/{staff_id}"))
        .await;
    assert_eq!(labels_of(&one), json!(["staff", "subscriber"]));
    // The page, read from the database and then from the cache: the same labels.
    for _ in 0..2 {
        let page = listed(&app).await;
        let by_id = |id: &str| page.iter().find(|c| c["id"] == id).unwrap().clone();
        assert_eq!(labels_of(&by_id(&staff_id)), json!(["staff", "subscriber"]));
        assert_eq!(labels_of(&by_id(plain["id"].as_str().unwrap())), json!([]));
    }
    // The replies.
    let (_, replies) = app
        .get(&format!("/api/v1/comments/{staff_id}/replies"))
        .await;
    assert_eq!(labels_of(&replies["comments"][0]), json!(["expert"]));
    // An edit keeps them.
    let (status, edited) = app
        .patch_json(
            &format!("/api/v1/comments/{staff_id}"),
            json!({"author_id": "u-red", "body": "Wir haben den Artikel nochmals ergänzt."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(labels_of(&edited), json!(["staff", "subscriber"]));
    // A hidden comment shows the website no author, and so no labels.
    app.decide_ok(&staff_id, json!({"action": "hide"})).await;
    let (_, hidden) = app.get(&format!("/api/v1/comments/{staff_id}")).await;
    assert!(hidden["author"].is_null(), "{hidden}");
}

async fn labels_other_than_the_known_ones_are_refused_and_nothing_is_posted(db: Db) {
    let app = spawn_app_with_article(db).await;
    for badges in [json!(["admin"]), json!(["staff", "Staff"]), json!([""])] {
        let (status, body) = post(
            &app,
            json!({"id": "u-1", "name": "Leser", "badges": badges}),
            "Hallo",
        )
        .await;
        assert_error(status, &body, 422, "validation_failed");
        let field = &body["error"]["details"]["fields"]["author.badges"];
        assert!(
            field
                .as_str()
                .unwrap()
                .contains("staff, expert, subscriber"),
            "{body}"
        );
    }
    // Not a list of strings: not the request's shape.
    for badges in [json!("staff"), json!([1]), json!({"staff": true})] {
        let (status, body) = post(
            &app,
            json!({"id": "u-1", "name": "Leser", "badges": badges}),
            "Hallo",
        )
        .await;
        assert_error(status, &body, 400, "bad_request");
    }
    // A bad label is reported with the other bad fields at once.
    let (status, body) = post(
        &app,
        json!({"id": "", "name": "Leser", "badges": ["x"]}),
        "",
    )
    .await;
    assert_error(status, &body, 422, "validation_failed");
    let fields = &body["error"]["details"]["fields"];
    for name in ["author.id", "author.badges", "body"] {
        assert!(fields[name].is_string(), "{name}: {body}");
    }
    assert!(listed(&app).await.is_empty());
}

async fn an_erased_authors_labels_go_with_their_data(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (status, posted) = post(
        &app,
        json!({"id": "u-abo", "name": "Abonnentin", "badges": ["subscriber"]}),
        "Mein Kommentar",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let id = posted["id"].as_str().unwrap().to_string();
    // The export holds them with the comment.
    let (status, export) = app.get("/api/v1/authors/u-abo/export").await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert_eq!(
        export["comments"][0]["author_badges"],
        json!(["subscriber"])
    );

    let (status, body) = app.delete("/api/v1/authors/u-abo").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, erased) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(labels_of(&erased), json!([]), "{erased}");
    assert_eq!(erased["author"]["name"], "", "{erased}");
}
