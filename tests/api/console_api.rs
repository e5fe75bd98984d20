//! What the moderators' console uses: notes on authors, banning with every visible comment
//! hidden in one step, and per-article settings, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, app_with_events, assert_error, ids_of, spawn_app, spawn_app_with_article,
};
use crate::on_both_databases;

on_both_databases!(
    moderators_note_authors_newest_first_and_every_note_is_audit_logged,
    notes_are_checked_and_only_for_moderators,
    an_articles_settings_default_change_and_show_at_once_in_every_view,
    an_article_in_premod_holds_every_new_comment,
    an_articles_link_rule_takes_the_place_of_the_content_rules,
    article_settings_are_checked_and_only_for_moderators,
    banning_with_hide_existing_hides_exactly_the_authors_visible_comments,
    a_suspension_can_hide_existing_comments_too,
);

/// The audit-log entries of `action`, newest first.
async fn logged(app: &TestApp, action: &str) -> Vec<Value> {
    let (status, log) = app
        .get_as_moderator("/api/v1/moderation/log?limit=100")
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

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
    let entries = logged(&app, "author_note").await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[2]["author_id"], "u-1");
    assert_eq!(entries[2]["moderator"], "anna");
    assert_eq!(entries[2]["via"], "api");
    assert!(!format!("{entries:?}").contains("mehreren Namen"));
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
    let notes = logged(&app, "author_note").await;
    assert_eq!(notes.len(), 1, "refused notes log nothing");
}

fn settings_path(article: &str) -> String {
    format!("/api/v1/articles/{article}/settings")
}

async fn put_settings(app: &TestApp, article: &str, settings: Value) -> Value {
    let (status, body) = app
        .put_json_as_moderator(&settings_path(article), settings)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn an_articles_settings_default_change_and_show_at_once_in_every_view(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.comment("a1", "u-1", "Ein erster Beitrag").await;
    let defaults = json!({"premod": false, "links": "inherit", "message": null});
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(article["settings"], defaults, "{article}");
    // The page and the front page are cached now.
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["article"]["settings"], defaults);
    let (_, list) = app.get("/api/v1/articles?ids=a1").await;
    assert_eq!(list["articles"][0]["settings"], defaults);

    let settings =
        json!({"premod": true, "links": "reject", "message": "  Bitte sachlich bleiben.  "});
    let changed = put_settings(&app, "a1", settings).await;
    let expected = json!({"premod": true, "links": "reject", "message": "Bitte sachlich bleiben."});
    assert_eq!(changed["settings"], expected, "{changed}");
    assert_eq!(changed["id"], "a1");
    assert_eq!(changed["discussion"]["status"], "open");
    // Without moving the clock: the cached page and rows show the change at once.
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(article["settings"], expected);
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["article"]["settings"], expected, "{page}");
    assert_eq!(page["comments"].as_array().unwrap().len(), 1);
    let (_, list) = app.get("/api/v1/articles?ids=a1").await;
    assert_eq!(list["articles"][0]["settings"], expected);

    // Omitted fields take their defaults; the change is audit-logged.
    let back = put_settings(&app, "a1", json!({})).await;
    assert_eq!(back["settings"], defaults);
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["article"]["settings"], defaults);
    let entries = logged(&app, "article_settings").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1]["article_id"], "a1");
    assert_eq!(entries[1]["moderator"], "anna");
    assert_eq!(entries[1]["details"]["from"], defaults);
    assert_eq!(entries[1]["details"]["to"], expected);
    // Registering the article again keeps its settings.
    put_settings(&app, "a1", json!({"premod": true})).await;
    app.put_recent_article("a1", None).await;
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(article["settings"]["premod"], true);
}

async fn an_article_in_premod_holds_every_new_comment(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.put_recent_article("a2", None).await;
    let before = app.comment("a1", "u-1", "Vor der Vorab-Prüfung").await;
    put_settings(&app, "a1", json!({"premod": true})).await;
    let (status, held) = app.post_comment("a1", "u-2", "Danach").await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "pending_review");
    let (_, seen) = app
        .get_as_moderator(&format!(
            "/api/v1/comments/{}",
            held["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        seen["detections"],
        json!([{"rule": "premod_article"}]),
        "{seen}"
    );
    // Another article is not held; the earlier comment stays visible.
    let (_, other) = app.post_comment("a2", "u-2", "Anderswo").await;
    assert_eq!(other["status"], "visible");
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    let ids = ids_of(&page["comments"]);
    assert_eq!(ids, [before.as_str()], "{page}");
    assert_eq!(page["article"]["comment_count"], 1);
    // The held comment is in the queue.
    let (_, queue) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=held")
        .await;
    assert_eq!(
        crate::helpers::queued_ids(&queue),
        [held["id"].as_str().unwrap()]
    );
    put_settings(&app, "a1", json!({"premod": false})).await;
    let (_, visible) = app.post_comment("a1", "u-3", "Wieder frei").await;
    assert_eq!(visible["status"], "visible");
}

async fn an_articles_link_rule_takes_the_place_of_the_content_rules(db: Db) {
    let app = spawn_app_with_article(db).await;
    let link = |n: u32| format!("Mehr dazu auf evil.example/{n}");
    let post = |author: &'static str, body: String| {
        let app = &app;
        async move { app.post_comment("a1", author, &body).await }
    };
    // The content rules allow links (the default).
    put_settings(&app, "a1", json!({"links": "reject"})).await;
    let (status, error) = post("u-1", link(1)).await;
    assert_error(status, &error, 422, "comment_rejected");
    assert_eq!(error["error"]["details"]["rule"], "links");
    let (_, clean) = post("u-1", "Ohne Link".into()).await;
    assert_eq!(clean["status"], "visible");

    put_settings(&app, "a1", json!({"links": "premod"})).await;
    let (status, held) = post("u-2", link(2)).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["status"], "pending_review");

    put_settings(&app, "a1", json!({"links": "inherit"})).await;
    let (_, allowed) = post("u-3", link(3)).await;
    assert_eq!(allowed["status"], "visible");

    // The content rules refuse links: `allow` lets them in on this article, `inherit` does not.
    let (status, _) = app
        .put_json_as_moderator(
            "/api/v1/moderation/rules",
            json!({"links": "reject", "banned_words": ["idiot"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, error) = post("u-4", link(4)).await;
    assert_error(status, &error, 422, "comment_rejected");
    put_settings(&app, "a1", json!({"links": "allow"})).await;
    let (_, allowed) = post("u-4", link(5)).await;
    assert_eq!(allowed["status"], "visible", "{allowed}");
    // Banned words come first, whatever the article's link rule.
    let (status, error) = post("u-5", format!("Idiot! {}", link(6))).await;
    assert_error(status, &error, 422, "comment_rejected");
    assert_eq!(error["error"]["details"]["rule"], "banned_word");
    // Edits follow the article's rule too.
    put_settings(&app, "a1", json!({"links": "reject"})).await;
    let id = clean["id"].as_str().unwrap();
    let (status, error) = app
        .patch_json(
            &format!("/api/v1/comments/{id}"),
            json!({"author_id": "u-1", "body": link(7)}),
        )
        .await;
    assert_error(status, &error, 422, "comment_rejected");
}

async fn article_settings_are_checked_and_only_for_moderators(db: Db) {
    let app = spawn_app_with_article(db).await;
    let bad = [
        (json!({"links": "sometimes"}), "links"),
        (json!({"links": ""}), "links"),
        (json!({"message": "x".repeat(1001)}), "message"),
    ];
    for (body, field) in bad {
        let (status, error) = app
            .put_json_as_moderator(&settings_path("a1"), body.clone())
            .await;
        assert_error(status, &error, 422, "validation_failed");
        assert!(
            error["error"]["details"]["fields"][field].is_string(),
            "{body}: {error}"
        );
    }
    let (status, error) = app
        .put_json_as_moderator(&settings_path("a1"), json!({"premod": "yes"}))
        .await;
    assert_error(status, &error, 400, "bad_request");
    let long = put_settings(&app, "a1", json!({"message": "x".repeat(1000)})).await;
    assert_eq!(long["settings"]["message"].as_str().unwrap().len(), 1000);
    let (status, error) = app
        .put_json_as_moderator(&settings_path("nope"), json!({}))
        .await;
    assert_error(status, &error, 404, "not_found");
    let (status, error) = app
        .put_json(&settings_path("a1"), json!({"premod": true}))
        .await;
    assert_error(status, &error, 403, "forbidden");
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(article["settings"]["premod"], false);
}

fn status_path(author: &str) -> String {
    format!("/api/v1/authors/{author}/status")
}

async fn status_of(app: &TestApp, comment: &str) -> String {
    let (_, c) = app
        .get_as_moderator(&format!("/api/v1/comments/{comment}"))
        .await;
    c["status"].as_str().unwrap().to_string()
}

async fn banning_with_hide_existing_hides_exactly_the_authors_visible_comments(db: Db) {
    let app = app_with_events(db).await;
    app.put_recent_article("a1", None).await;
    app.put_recent_article("a2", None).await;
    let troll = "u-troll";
    // A held comment (the author was in premod), then visible ones on two articles, one of them
    // flagged, one hidden by a moderator before; and another author's comment.
    let (status, _) = app
        .put_json_as_moderator(&status_path(troll), json!({"status": "premod"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let held = app.comment("a1", troll, "Zurückgehalten").await;
    let (status, _) = app
        .put_json_as_moderator(&status_path(troll), json!({"status": "active"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = app.comment("a1", troll, "Erster sichtbarer").await;
    let second = app.comment("a2", troll, "Zweiter sichtbarer").await;
    let flagged = app.comment("a1", troll, "Gemeldeter").await;
    app.clock.advance(chrono::Duration::minutes(2));
    let decided = app.comment("a1", troll, "Schon ausgeblendet").await;
    app.decide_ok(&decided, json!({"action": "hide"})).await;
    let other = app.comment("a1", "u-other", "Von jemand anderem").await;
    let (status, flag) = app
        .post_json(
            &format!("/api/v1/comments/{flagged}/flags"),
            json!({"reporter": {"id": "r-1"}, "reason": "abuse"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");
    assert_eq!(status_of(&app, &held).await, "pending_review");
    // The page is cached now.
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["comments"].as_array().unwrap().len(), 3, "{page}");

    // A ground and a category are required, and only with a ban or a suspension.
    let refused = [
        json!({"status": "banned", "reason": "Troll", "hide_existing": true}),
        json!({"status": "banned", "reason": "Troll", "hide_existing": true, "ground": "terms"}),
        json!({"status": "banned", "reason": "Troll", "hide_existing": true, "ground": "illegal", "category": "hate"}),
        json!({"status": "premod", "hide_existing": true, "ground": "terms", "category": "insult"}),
        // Without hide_existing the statement is not needed, but what is given must be valid.
        json!({"status": "banned", "reason": "Troll", "ground": "nonsense"}),
        json!({"status": "banned", "reason": "Troll", "category": "nonsense"}),
    ];
    for body in refused {
        let (status, error) = app
            .put_json_as_moderator(&status_path(troll), body.clone())
            .await;
        assert_error(status, &error, 422, "validation_failed");
    }
    assert_eq!(
        status_of(&app, &first).await,
        "visible",
        "a refused ban changes nothing"
    );
    let (_, author) = app
        .get_as_moderator(&format!("/api/v1/authors/{troll}"))
        .await;
    assert_eq!(author["status"], "active");

    let ban = json!({"status": "banned", "reason": "Troll", "hide_existing": true,
                     "ground": "terms", "category": "insult", "explanation": "Wiederholte Beleidigungen"});
    let (status, author) = app
        .put_json_as_moderator(&status_path(troll), ban.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{author}");
    assert_eq!(author["status"], "banned");
    assert_eq!(author["stats"]["visible"], 0, "{author}");
    assert_eq!(author["stats"]["hidden"], 4, "{author}");
    assert_eq!(author["stats"]["held"], 1, "{author}");
    for id in [&first, &second, &flagged, &decided] {
        assert_eq!(status_of(&app, id).await, "hidden", "{id}");
    }
    assert_eq!(status_of(&app, &held).await, "pending_review");
    assert_eq!(status_of(&app, &other).await, "visible");

    // Each hidden comment has the statement of reasons; the flag is decided by it.
    for id in [&first, &second, &flagged] {
        let (status, decision) = app.get(&format!("/api/v1/comments/{id}/decision")).await;
        assert_eq!(status, StatusCode::OK, "{decision}");
        assert_eq!(decision["action"], "hide");
        assert_eq!(decision["ground"], "terms");
        assert_eq!(decision["category"], "insult");
        assert_eq!(decision["explanation"], "Wiederholte Beleidigungen");
        assert_eq!(decision["automated"], false);
    }
    let (_, flag) = app
        .get(&format!("/api/v1/flags/{}", flag["id"].as_str().unwrap()))
        .await;
    assert_eq!(flag["status"], "decided", "{flag}");
    assert_eq!(flag["decision"]["action"], "hide");
    assert_eq!(flag["decision"]["category"], "insult");
    let (_, queue) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=flagged")
        .await;
    assert!(crate::helpers::queued_ids(&queue).is_empty(), "{queue}");

    // The events: `comment.hidden` for each, `flag.decided` for the flag.
    let (_, events) = app.get_as_moderator("/api/v1/events?limit=100").await;
    let events = events["events"].as_array().unwrap();
    let hidden: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "comment.hidden")
        .map(|e| e["data"]["comment_id"].as_str().unwrap())
        .collect();
    let mut expected = vec![
        decided.as_str(),
        first.as_str(),
        second.as_str(),
        flagged.as_str(),
    ];
    let mut seen = hidden.clone();
    expected.sort_unstable();
    seen.sort_unstable();
    assert_eq!(seen, expected);
    let second_event = events
        .iter()
        .find(|e| e["type"] == "comment.hidden" && e["data"]["comment_id"] == second.as_str())
        .unwrap();
    assert_eq!(second_event["data"]["article_id"], "a2");
    assert_eq!(second_event["data"]["status"], "hidden");
    let decided_flags = events
        .iter()
        .filter(|e| e["type"] == "flag.decided")
        .count();
    assert_eq!(decided_flags, 1);

    // The audit log: a `hide` for each, and the ban.
    let hides = logged(&app, "hide").await;
    let by_ban: Vec<&Value> = hides
        .iter()
        .filter(|e| e["comment_id"] != decided.as_str())
        .collect();
    let mut hidden_ids: Vec<&str> = by_ban
        .iter()
        .map(|e| e["comment_id"].as_str().unwrap())
        .collect();
    hidden_ids.sort_unstable();
    let mut visible_before = vec![first.as_str(), second.as_str(), flagged.as_str()];
    visible_before.sort_unstable();
    assert_eq!(hidden_ids, visible_before, "{hides:?}");
    assert!(
        by_ban
            .iter()
            .all(|e| e["moderator"] == "anna" && e["note"] == "Troll"),
        "{by_ban:?}"
    );
    let bans = logged(&app, "author_banned").await;
    assert_eq!(bans[0]["author_id"], troll);
    assert_eq!(bans[0]["details"], json!({"hidden": 3}));

    // This process's cached page shows it at once.
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    let ids = ids_of(&page["comments"]);
    assert_eq!(ids, [other.as_str()], "{page}");
    assert_eq!(page["article"]["comment_count"], 1);

    // Again: nothing is left to hide, nothing more is recorded.
    let (status, _) = app.put_json_as_moderator(&status_path(troll), ban).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(logged(&app, "hide").await.len(), 4);
    assert_eq!(
        logged(&app, "author_banned").await[0]["details"],
        json!({"hidden": 0})
    );
}

async fn a_suspension_can_hide_existing_comments_too(db: Db) {
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "u-1", "Sichtbar").await;
    let until = (app.clock.now() + chrono::Duration::days(3)).to_rfc3339();
    let (status, author) = app
        .put_json_as_moderator(
            &status_path("u-1"),
            json!({"status": "suspended", "until": until, "reason": "Pause", "hide_existing": true,
                   "ground": "illegal", "category": "threat", "legal_reference": "§ 107 StGB"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{author}");
    assert_eq!(status_of(&app, &id).await, "hidden");
    let (_, decision) = app.get(&format!("/api/v1/comments/{id}/decision")).await;
    assert_eq!(decision["ground"], "illegal");
    assert_eq!(decision["legal_reference"], "§ 107 StGB");
    // Without `hide_existing` a ban leaves the comments as they are.
    let kept = app.comment("a1", "u-2", "Bleibt").await;
    let (status, _) = app
        .put_json_as_moderator(
            &status_path("u-2"),
            json!({"status": "banned", "reason": "x", "hide_existing": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&app, &kept).await, "visible");
}
