//! Readers' reactions: one per reader and comment, exact under concurrency, in every view of the
//! comment, gone with an erased reader's data; on both databases.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error, spawn_app_with_article};
use crate::on_both_databases;

on_both_databases!(
    thirty_two_readers_reacting_at_once_are_each_counted_once,
    every_view_of_a_comment_shows_its_reaction_count,
    an_erased_readers_reactions_go_with_their_data,
    reactions_are_checked,
    a_readers_export_lists_the_reactions_they_gave,
);

fn reaction_path(comment: &str, reader: &str) -> String {
    format!("/api/v1/comments/{comment}/reactions/{reader}")
}

async fn react(app: &TestApp, comment: &str, reader: &str) -> Value {
    let (status, body) = app
        .put_json(&reaction_path(comment, reader), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn count_of(app: &TestApp, comment: &str) -> i64 {
    let (status, body) = app.get(&format!("/api/v1/comments/{comment}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["reaction_count"].as_i64().expect("a reaction_count")
}

/// The rows of the reactions table about `reader`.
async fn stored_of(app: &TestApp, reader: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM reactions WHERE reader_id = $1",
            [reader.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn thirty_two_readers_reacting_at_once_are_each_counted_once(db: Db) {
    let app = spawn_app_with_article(db).await;
    let comment = app.comment("a1", "u1", "Ein beliebter Kommentar").await;
    // 32 readers, each sending their reaction twice, all at once.
    let readers: Vec<String> = (0..32).map(|i| format!("r-{i}")).collect();
    let answers =
        futures_util::future::join_all(readers.iter().chain(readers.iter()).map(|reader| async {
            app.put_json(&reaction_path(&comment, reader), json!({}))
                .await
        }))
        .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["comment_id"], comment.as_str());
        assert_eq!(body["reacted"], true);
        let seen = body["reaction_count"].as_i64().unwrap();
        assert!((1..=32).contains(&seen), "{body}");
    }
    assert_eq!(count_of(&app, &comment).await, 32);
    // The answer to a repeat is the same as to the first.
    let again = react(&app, &comment, "r-0").await;
    assert_eq!(
        again,
        json!({"comment_id": comment, "reader_id": "r-0", "reacted": true, "reaction_count": 32})
    );

    // Ten readers take theirs back, twice each, at once.
    let answers = futures_util::future::join_all(
        readers[..10]
            .iter()
            .chain(readers[..10].iter())
            .map(|reader| async { app.delete(&reaction_path(&comment, reader)).await }),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["reacted"], false);
    }
    assert_eq!(count_of(&app, &comment).await, 22);
    let (status, body) = app.delete(&reaction_path(&comment, "r-0")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["reaction_count"], 22,
        "taking back twice changes nothing"
    );
}

async fn every_view_of_a_comment_shows_its_reaction_count(db: Db) {
    let app = spawn_app_with_article(db).await;
    let first = app.comment("a1", "u1", "Erster").await;
    let second = app.comment("a1", "u2", "Zweiter").await;
    let reply = app.reply("a1", &first, "u3", "Antwort").await;
    // The page is cached before the reactions.
    let (status, page) = app.get("/api/v1/articles/a1/comments?order=oldest").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["comments"][0]["reaction_count"], 0);
    for reader in ["r1", "r2", "r3"] {
        react(&app, &first, reader).await;
    }
    react(&app, &reply, "r1").await;

    // One comment, for both callers.
    assert_eq!(count_of(&app, &first).await, 3);
    let (_, moderated) = app
        .get_as_moderator(&format!("/api/v1/comments/{first}"))
        .await;
    assert_eq!(moderated["reaction_count"], 3);
    // Replies.
    let (status, replies) = app.get(&format!("/api/v1/comments/{first}/replies")).await;
    assert_eq!(status, StatusCode::OK, "{replies}");
    assert_eq!(replies["comments"][0]["id"], reply.as_str());
    assert_eq!(replies["comments"][0]["reaction_count"], 1);
    // A page of the article: a reaction does not drop the cached pages, which show counts at
    // most the cache's one second old.
    app.clock.advance(Duration::milliseconds(1100));
    for path in [
        "/api/v1/articles/a1/comments?order=oldest",
        "/api/v1/articles/a1/comments?order=oldest&limit=1",
    ] {
        let (status, page) = app.get(path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["comments"][0]["id"], first.as_str(), "{page}");
        assert_eq!(page["comments"][0]["reaction_count"], 3, "{page}");
    }
    let (_, page) = app
        .get_as_moderator("/api/v1/articles/a1/comments?order=newest")
        .await;
    assert_eq!(page["comments"][0]["id"], second.as_str(), "{page}");
    assert_eq!(page["comments"][0]["reaction_count"], 0, "{page}");
    assert_eq!(page["comments"][1]["reaction_count"], 3, "{page}");
    // An edit answers with the count.
    let (status, edited) = app
        .patch_json(
            &format!("/api/v1/comments/{first}"),
            json!({"author_id": "u1", "body": "Erster, korrigiert"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["reaction_count"], 3);
}

async fn an_erased_readers_reactions_go_with_their_data(db: Db) {
    let app = spawn_app_with_article(db).await;
    let first = app.comment("a1", "u1", "Erster").await;
    let second = app.comment("a1", "u2", "Zweiter").await;
    // The reader to be erased reacted to two comments, and others reacted to their comment.
    let own = app.comment("a1", "u-erased", "Mein Kommentar").await;
    for comment in [&first, &second] {
        react(&app, comment, "u-erased").await;
        react(&app, comment, "u-other").await;
    }
    react(&app, &own, "u-other").await;
    assert_eq!(stored_of(&app, "u-erased").await, 2);

    let (status, body) = app.delete("/api/v1/authors/u-erased").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored_of(&app, "u-erased").await, 0);
    assert_eq!(count_of(&app, &first).await, 1);
    assert_eq!(count_of(&app, &second).await, 1);
    // Other readers' reactions are theirs, not the erased author's.
    assert_eq!(stored_of(&app, "u-other").await, 3);

    // A reader who only ever reacted is erased too.
    react(&app, &first, "u-reader").await;
    let (status, body) = app.delete("/api/v1/authors/u-reader").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(stored_of(&app, "u-reader").await, 0);
    assert_eq!(count_of(&app, &first).await, 1);
}

async fn reactions_are_checked(db: Db) {
    let app = spawn_app_with_article(db).await;
    let comment = app.comment("a1", "u1", "Erster").await;
    let long = "r".repeat(129);
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let (status, body) = app
            .call(method.clone(), &reaction_path(&comment, &long), None)
            .await;
        assert_error(status, &body, 422, "validation_failed");
        assert!(
            body["error"]["details"]["fields"]["reader_id"].is_string(),
            "{body}"
        );
        for missing in ["999999", "abc"] {
            let (status, body) = app
                .call(method.clone(), &reaction_path(missing, "r1"), None)
                .await;
            assert_error(status, &body, 404, "not_found");
        }
    }
    // No token, no reaction.
    let response = app
        .request(
            reqwest::Method::PUT,
            &reaction_path(&comment, "r1"),
            None,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A hidden comment takes no new reactions; one given before can be taken back.
    react(&app, &comment, "r1").await;
    app.decide_ok(&comment, json!({"action": "hide"})).await;
    let (status, body) = app
        .put_json(&reaction_path(&comment, "r2"), json!({}))
        .await;
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "hidden");
    let (status, body) = app.delete(&reaction_path(&comment, "r1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["reaction_count"], 0);

    // A closed discussion takes none.
    let open = app.comment("a1", "u2", "Zweiter").await;
    let (status, _) = app
        .moderate_discussion("a1", json!({"action": "close", "reason": "Ruhe"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let (status, body) = app.call(method, &reaction_path(&open, "r1"), None).await;
        assert_error(status, &body, 403, "discussion_closed");
        assert!(body["error"]["details"]["notice"].is_object(), "{body}");
    }
    assert_eq!(count_of(&app, &open).await, 0);
}

async fn a_readers_export_lists_the_reactions_they_gave(db: Db) {
    let app = spawn_app_with_article(db).await;
    let comments = [
        app.comment("a1", "u1", "Erster").await,
        app.comment("a1", "u2", "Zweiter").await,
        app.comment("a1", "u3", "Dritter").await,
    ];
    // A reader who only ever reacted: to the third, then the first; another reader to all.
    react(&app, &comments[2], "u-reader").await;
    app.clock.advance(Duration::minutes(5));
    react(&app, &comments[0], "u-reader").await;
    for comment in &comments {
        react(&app, comment, "u-other").await;
    }
    let (status, export) = app.get("/api/v1/authors/u-reader/export").await;
    assert_eq!(status, StatusCode::OK, "{export}");
    assert!(export["author"].is_null(), "{export}");
    let given: Vec<(String, String)> = export["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["comment_id"].as_str().unwrap().to_string(),
                r["created_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut expected = vec![comments[0].clone(), comments[2].clone()];
    expected.sort_by_key(|id| id.parse::<i64>().unwrap());
    assert_eq!(
        given.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        expected,
        "by comment, only theirs"
    );
    assert_ne!(given[0].1, given[1].1, "each with the instant it was given");
    // Erased, nothing is left to export.
    let (status, body) = app.delete("/api/v1/authors/u-reader").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get("/api/v1/authors/u-reader/export").await;
    assert_error(status, &body, 404, "not_found");
}
