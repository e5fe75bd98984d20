//! What the moderators' console uses: notes on authors, banning with every visible comment
//! hidden in one step, and per-article settings, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    moderators_note_authors_newest_first_and_every_note_is_audit_logged,
    notes_are_checked_and_only_for_moderators,
);

fn notes_path(author: &str) -> String {
    format!("/api/v1/authors/{author}/notes")
}

async fn add_note(app: &TestApp, author: &str, text: &str) -> Value {
    let (status, note) = app
        .post_json_as_moderator(&notes_path(author), json!({"text": text}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    note
}

async fn moderators_note_authors_newest_first_and_every_note_is_audit_logged(db: Db) {
    let app = spawn_app(db).await;
    let first = add_note(&app, "u-1", "  Schreibt unter mehreren Namen.  ").await;
    assert_eq!(first["author_id"], "u-1");
    assert_eq!(first["moderator"], "anna");
    assert_eq!(first["text"], "Schreibt unter mehreren Namen.", "trimmed");
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    app.clock.advance(chrono::Duration::minutes(1));
    let second = add_note(&app, "u-1", "Zweite Zeile\nmit Umbruch").await;
    add_note(&app, "u-2", "Über jemand anderen").await;

    let (status, page) = app.get_as_moderator(&notes_path("u-1")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["notes"], json!([second, first]), "newest first");
    assert_eq!(page["next_cursor"], Value::Null);
    // Keyset pages.
    let (_, one) = app
        .get_as_moderator(&format!("{}?limit=1", notes_path("u-1")))
        .await;
    assert_eq!(one["notes"], json!([second]));
    let cursor = one["next_cursor"].as_str().expect("a next page");
    let (_, two) = app
        .get_as_moderator(&format!("{}?limit=1&cursor={cursor}", notes_path("u-1")))
        .await;
    assert_eq!(two["notes"], json!([first]));
    assert_eq!(two["next_cursor"], Value::Null);

    // Notes about an author never seen create no author record.
    let (status, _) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, page) = app.get_as_moderator(&notes_path("u-nobody")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["notes"], json!([]));

    // Each note is in the audit log, naming the author and the note, not its text.
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let entries: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "author_note")
        .collect();
    assert_eq!(entries.len(), 3, "{log}");
    assert_eq!(entries[2]["author_id"], "u-1");
    assert_eq!(entries[2]["moderator"], "anna");
    assert_eq!(entries[2]["via"], "api");
    assert!(!log.to_string().contains("mehreren Namen"), "{log}");
}

async fn notes_are_checked_and_only_for_moderators(db: Db) {
    let app = spawn_app(db).await;
    let too_long = "x".repeat(2001);
    let bad = [
        json!({}),
        json!({"text": null}),
        json!({"text": ""}),
        json!({"text": "   \n "}),
        json!({"text": too_long}),
        json!({"text": "Steuerzeichen \u{7}"}),
    ];
    for body in bad {
        let (status, error) = app
            .post_json_as_moderator(&notes_path("u-1"), body.clone())
            .await;
        assert_error(status, &error, 422, "validation_failed");
        assert!(
            error["error"]["details"]["fields"]["text"].is_string(),
            "{body}: {error}"
        );
    }
    add_note(&app, "u-1", &"x".repeat(2000)).await;
    let (status, error) = app
        .post_json_as_moderator(&notes_path(&"u".repeat(129)), json!({"text": "ok"}))
        .await;
    assert_error(status, &error, 422, "validation_failed");

    // A service token may neither write nor read notes.
    let (status, error) = app
        .post_json(&notes_path("u-1"), json!({"text": "vom Web"}))
        .await;
    assert_error(status, &error, 403, "forbidden");
    let (status, error) = app.get(&notes_path("u-1")).await;
    assert_error(status, &error, 403, "forbidden");
    let (_, page) = app.get_as_moderator(&notes_path("u-1")).await;
    assert_eq!(page["notes"].as_array().unwrap().len(), 1);
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let notes = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "author_note")
        .count();
    assert_eq!(notes, 1, "refused notes log nothing");
}
