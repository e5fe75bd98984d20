//! Automatic moderation: the content rules the community team sets, applied to every post and
//! edit in the contract's order, on both databases.

use std::time::Duration as StdDuration;

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, assert_error, ids_of, spawn_app, spawn_app_on, spawn_app_with,
    spawn_app_with_article,
};
use crate::on_both_databases;
use crate::smtp_server::TestSmtpServer;

on_both_databases!(
    the_rules_start_as_the_defaults_and_are_replaced_as_a_whole,
    bad_rules_are_refused_with_field_errors,
    a_rules_change_is_audit_logged_with_what_changed,
    a_large_rules_change_is_audit_logged_as_counts,
    a_banned_word_is_refused_even_when_disguised,
    a_suspect_word_holds_the_comment_and_emails_the_team_with_the_detection,
    links_are_allowed_held_or_refused_and_the_allowlist_never_counts,
    the_same_text_twice_within_the_window_is_a_repeat_post,
    a_new_authors_comments_are_held_until_one_was_approved,
    an_author_whose_comments_were_often_removed_is_held,
    an_edit_passes_the_same_rules,
    service_views_never_show_detections,
    a_second_instance_applies_a_change_within_a_second,
    a_second_instance_serves_the_rules_in_force_while_it_compiles_a_large_change,
);

const WAIT: StdDuration = StdDuration::from_secs(20);

async fn put_rules(app: &TestApp, rules: Value) -> (StatusCode, Value) {
    app.put_json_as_moderator("/api/v1/moderation/rules", rules)
        .await
}

async fn set_rules(app: &TestApp, rules: Value) {
    let (status, body) = put_rules(app, rules).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn assert_rejected(status: StatusCode, body: &Value, rule: &str) {
    assert_error(status, body, 422, "comment_rejected");
    assert_eq!(body["error"]["details"]["rule"], rule, "{body}");
}

/// Posts each of `texts` to `a1`, by the authors `{prefix}-0`, `{prefix}-1`, ... in turn, and
/// asserts that the rule `rule` rejects it; returns the answers.
async fn each_rejected(app: &TestApp, prefix: &str, texts: &[&str], rule: &str) -> Vec<Value> {
    let mut answers = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let (status, body) = app.post_comment("a1", &format!("{prefix}-{i}"), text).await;
        assert_rejected(status, &body, rule);
        answers.push(body);
    }
    answers
}

async fn held(app: &TestApp, article: &str, author: &str, text: &str) -> String {
    let (status, body) = app.post_comment(article, author, text).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending_review", "{text}: {body}");
    body["id"].as_str().unwrap().to_string()
}

async fn published(app: &TestApp, article: &str, author: &str, text: &str) -> String {
    let (status, body) = app.post_comment(article, author, text).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "visible", "{text}: {body}");
    body["id"].as_str().unwrap().to_string()
}

/// The comment as a moderator sees it.
async fn moderator_view(app: &TestApp, id: &str) -> Value {
    let (status, body) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn comment_count(app: &TestApp) -> u64 {
    let (_, page) = app.get_as_moderator("/api/v1/articles/a1/comments").await;
    page["comments"].as_array().unwrap().len() as u64
}

async fn the_rules_start_as_the_defaults_and_are_replaced_as_a_whole(db: Db) {
    let app = spawn_app(db).await;
    let (status, rules) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(
        rules,
        json!({"banned_words": [], "suspect_words": [], "links": "allow", "link_allowlist": [],
               "repeat_post_minutes": 10, "new_author_premod": 0,
               "history": {"window_days": 30, "min_comments": 5, "max_rejected_ratio": 0.5},
               "version": 0, "updated_at": null, "updated_by": null})
    );
    let (status, rules) = put_rules(
        &app,
        json!({"banned_words": [" idiot ", "idiot", "*trottel*"], "links": "premod",
               "link_allowlist": ["*.Krone.at"], "unknown_field": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["banned_words"], json!(["idiot", "*trottel*"]));
    assert_eq!(rules["link_allowlist"], json!(["krone.at"]));
    assert_eq!(rules["links"], "premod");
    assert_eq!(rules["repeat_post_minutes"], 10, "omitted: the default");
    assert_eq!(rules["version"], 1);
    assert_eq!(rules["updated_by"], "anna");
    // The whole object is replaced: what is omitted goes back to its default.
    let (_, rules) = put_rules(&app, json!({"suspect_words": ["depp"]})).await;
    assert_eq!(rules["banned_words"], json!([]));
    assert_eq!(rules["links"], "allow");
    assert_eq!(rules["version"], 2);
    let (_, got) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(got, rules);

    let (status, body) = app.get("/api/v1/moderation/rules").await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = app.put_json("/api/v1/moderation/rules", json!({})).await;
    assert_error(status, &body, 403, "forbidden");
}

async fn bad_rules_are_refused_with_field_errors(db: Db) {
    let app = spawn_app(db).await;
    let too_many: Vec<String> = (0..10_001).map(|i| format!("wort{i}")).collect();
    for (rules, field) in [
        (json!({"banned_words": too_many}), "banned_words"),
        (json!({"suspect_words": ["ok", "  "]}), "suspect_words"),
        (json!({"banned_words": ["*"]}), "banned_words"),
        (
            json!({"link_allowlist": ["not a domain"]}),
            "link_allowlist",
        ),
        (json!({"repeat_post_minutes": -1}), "repeat_post_minutes"),
        (json!({"new_author_premod": 100000}), "new_author_premod"),
        (
            json!({"history": {"window_days": 0}}),
            "history.window_days",
        ),
        (
            json!({"history": {"max_rejected_ratio": 1.5}}),
            "history.max_rejected_ratio",
        ),
    ] {
        let (status, body) = put_rules(&app, rules.clone()).await;
        assert_error(status, &body, 422, "validation_failed");
        assert!(
            body["error"]["details"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    for rules in [
        json!({"links": "sometimes"}),
        json!({"banned_words": "idiot"}),
        json!({"banned_words": [1, 2]}),
        json!([]),
    ] {
        let (status, body) = put_rules(&app, rules).await;
        assert_error(status, &body, 400, "bad_request");
    }
    let (_, rules) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(rules["version"], 0, "nothing was stored");

    // Full lists are fine (they need more than the API's usual 64 KiB).
    let banned: Vec<String> = (0..10_000).map(|i| format!("verbotenes-wort{i}")).collect();
    let suspect: Vec<String> = (0..10_000).map(|i| format!("*verdacht{i}*")).collect();
    let (status, rules) = put_rules(
        &app,
        json!({"banned_words": banned, "suspect_words": suspect}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rules}");
    assert_eq!(rules["banned_words"].as_array().unwrap().len(), 10_000);
    app.put_recent_article("a1", None).await;
    let (status, body) = app
        .post_comment("a1", "u-1", "das verbotenes-wort9999")
        .await;
    assert_rejected(status, &body, "banned_word");
    held(&app, "a1", "u-1", "VERDACHT77x").await;
}

async fn a_rules_change_is_audit_logged_with_what_changed(db: Db) {
    let app = spawn_app(db).await;
    set_rules(&app, json!({"banned_words": ["idiot", "depp"]})).await;
    set_rules(
        &app,
        json!({"banned_words": ["idiot", "trottel"], "links": "reject"}),
    )
    .await;
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let newest = &log["entries"][0];
    assert_eq!(newest["action"], "rules_changed", "{log}");
    assert_eq!(newest["moderator"], "anna");
    assert_eq!(
        newest["details"],
        json!({"lists": {"banned_words": {"added": 1, "removed": 1}},
               "fields": {"links": {"from": "allow", "to": "reject"}}})
    );
    assert_eq!(newest["note"], "banned_words +1 -1; links allow → reject");
    assert_eq!(
        log["entries"][1]["details"]["lists"]["banned_words"]["added"],
        json!(2)
    );
}

async fn a_large_rules_change_is_audit_logged_as_counts(db: Db) {
    let app = spawn_app(db).await;
    let banned: Vec<String> = (0..10_000).map(|i| format!("verbotenes-wort{i}")).collect();
    set_rules(
        &app,
        json!({"banned_words": banned, "history": {"window_days": 14}}),
    )
    .await;
    let replaced: Vec<String> = (5_000..15_000)
        .map(|i| format!("verbotenes-wort{i}"))
        .collect();
    set_rules(
        &app,
        json!({"banned_words": replaced, "links": "premod", "history": {"window_days": 14}}),
    )
    .await;
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let newest = &log["entries"][0];
    assert_eq!(newest["action"], "rules_changed", "{log}");
    assert_eq!(
        newest["details"],
        json!({"lists": {"banned_words": {"added": 5_000, "removed": 5_000}},
               "fields": {"links": {"from": "allow", "to": "premod"}}})
    );
    assert_eq!(
        newest["note"],
        "banned_words +5000 -5000; links allow → premod"
    );
    let first = &log["entries"][1];
    assert_eq!(
        first["details"],
        json!({"lists": {"banned_words": {"added": 10_000, "removed": 0}},
               "fields": {"history.window_days": {"from": 30, "to": 14}}})
    );
    assert_eq!(
        first["note"],
        "banned_words +10000 -0; history.window_days 30 → 14"
    );
}

async fn a_banned_word_is_refused_even_when_disguised(db: Db) {
    let app = spawn_app_with_article(db).await;
    set_rules(&app, json!({"banned_words": ["idiot", "*trottel*"]})).await;
    let disguised = [
        "Du Idiot!",
        "Du I.d.i.o.t",
        "Du 1d10t",
        "Du Idiooot",
        "Du ＩＤＩＯＴ",
        "Du іdіоt",
        "So ein Volltrottel",
    ];
    for body in each_rejected(&app, "u", &disguised, "banned_word").await {
        let message = body["error"]["message"].as_str().unwrap().to_lowercase();
        assert!(
            !message.contains("idiot") && !message.contains("trottel"),
            "{body}"
        );
    }
    assert_eq!(comment_count(&app).await, 0, "nothing was stored");
    // Innocent words that contain a listed one are not hit.
    published(&app, "a1", "u-9", "Die Idiotie der Lage").await;
}

async fn a_suspect_word_holds_the_comment_and_emails_the_team_with_the_detection(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    set_rules(&app, json!({"suspect_words": ["*dumm*"]})).await;
    let id = held(&app, "a1", "u-1", "Das ist ja D-U-M-M.\nZweite Zeile.").await;

    let view = moderator_view(&app, &id).await;
    assert_eq!(view["status"], "pending_review");
    assert_eq!(
        view["detections"],
        json!([{"rule": "suspect_word", "match": "*dumm*"}])
    );
    let (_, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(queue["items"][0]["comment"]["id"], id.as_str());
    assert_eq!(queue["items"][0]["reasons"], json!(["suspect_word"]));
    assert_eq!(queue["items"][0]["flags"]["total"], 0);

    let mails = smtp.wait_for(1, WAIT).await;
    let mail = &mails[0];
    let subject = mail.header("Subject").unwrap();
    assert!(
        subject.starts_with("Kommentar zurückgehalten (Verdächtiges Wort)"),
        "{subject}"
    );
    let text = mail.text_part();
    assert!(text.contains("Verdächtiges Wort: *dumm*"), "{text}");
    assert!(text.contains("> Das ist ja D-U-M-M."), "{text}");
    assert!(text.contains("/moderation/actions/"), "{text}");
    assert!(mail.html_part().contains("<code>*dumm*</code>"));

    // Approving it from the API makes it visible.
    let (status, body) = app.decide(&id, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(ids_of(&page["comments"]), [id.as_str()]);
    let (_, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(queue["items"], json!([]));
}

async fn links_are_allowed_held_or_refused_and_the_allowlist_never_counts(db: Db) {
    let app = spawn_app_with_article(db).await;
    published(&app, "a1", "u-0", "Siehe https://evil.example/x").await;

    set_rules(
        &app,
        json!({"links": "reject", "link_allowlist": ["krone.at"]}),
    )
    .await;
    let elsewhere = [
        "Siehe https://evil.example/x",
        "Siehe www.evil.example",
        "Siehe evil.example/pfad",
        "Siehe https://krone.at.evil.example/",
    ];
    each_rejected(&app, "r", &elsewhere, "links").await;
    let allowed = [
        "Siehe https://www.krone.at/1912345",
        "Siehe krone.at/sport",
        "Schreiben Sie an forum@krone.at oder leser@evil.example",
    ];
    for (i, text) in allowed.iter().enumerate() {
        published(&app, "a1", &format!("k-{i}"), text).await;
    }

    set_rules(&app, json!({"links": "premod"})).await;
    let id = held(&app, "a1", "p-1", "Mehr auf https://www.example.org/a").await;
    assert_eq!(
        moderator_view(&app, &id).await["detections"],
        json!([{"rule": "links", "match": "www.example.org"}])
    );
}

async fn the_same_text_twice_within_the_window_is_a_repeat_post(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.put_recent_article("a2", None).await;
    published(&app, "a1", "u-1", "Das ist  meine Meinung").await;
    app.clock.advance(Duration::minutes(9));
    let (status, body) = app
        .post_comment("a2", "u-1", "das ist meine\nMEINUNG ")
        .await;
    assert_rejected(status, &body, "repeat_post");
    // Another author may say the same.
    published(&app, "a1", "u-2", "Das ist meine Meinung").await;
    app.clock.advance(Duration::minutes(1));
    published(&app, "a1", "u-1", "Das ist meine Meinung").await;

    set_rules(&app, json!({"repeat_post_minutes": 0})).await;
    published(&app, "a1", "u-1", "Das ist meine Meinung").await;
}

async fn a_new_authors_comments_are_held_until_one_was_approved(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    published(&app, "a1", "old-hand", "schon lange dabei").await;
    set_rules(&app, json!({"new_author_premod": 1})).await;
    published(&app, "a1", "old-hand", "wieder dabei").await;

    let first = held(&app, "a1", "newbie", "Mein erster Kommentar").await;
    assert_eq!(
        moderator_view(&app, &first).await["detections"],
        json!([{"rule": "new_author"}])
    );
    let second = held(&app, "a1", "newbie", "Mein zweiter Kommentar").await;
    let (status, _) = app.decide(&first, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    published(&app, "a1", "newbie", "Jetzt gleich sichtbar").await;
    assert_eq!(
        moderator_view(&app, &second).await["status"],
        "pending_review"
    );

    let (_, outbox) = app
        .get_as_moderator("/api/v1/moderation/notifications")
        .await;
    assert_eq!(
        outbox["notifications"],
        json!([]),
        "no email for new authors"
    );
    assert!(smtp.received().is_empty());
}

async fn an_author_whose_comments_were_often_removed_is_held(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    set_rules(
        &app,
        json!({"history": {"window_days": 30, "min_comments": 3, "max_rejected_ratio": 0.5}}),
    )
    .await;
    let ids = [
        published(&app, "a1", "u-h", "eins").await,
        published(&app, "a1", "u-h", "zwei").await,
        published(&app, "a1", "u-h", "drei").await,
    ];
    app.decide_ok(&ids[0], json!({"action": "hide"})).await;
    // One of three removed: not more than half.
    published(&app, "a1", "u-h", "vier").await;
    app.decide_ok(&ids[1], json!({"action": "delete"})).await;
    app.decide_ok(&ids[2], json!({"action": "hide"})).await;
    // Three of four removed.
    let id = held(&app, "a1", "u-h", "fünf").await;
    assert_eq!(
        moderator_view(&app, &id).await["detections"],
        json!([{"rule": "history"}])
    );
    let mails = smtp.wait_for(1, WAIT).await;
    assert!(
        mails[0].text_part().contains("Auffällige Vorgeschichte"),
        "{}",
        mails[0].text_part()
    );

    // Outside the window, the old removals no longer count.
    app.clock.advance(Duration::days(31));
    published(&app, "a1", "u-h", "sechs").await;
}

async fn an_edit_passes_the_same_rules(db: Db) {
    let app = spawn_app_with_article(db).await;
    set_rules(
        &app,
        json!({"banned_words": ["idiot"], "suspect_words": ["depp"]}),
    )
    .await;
    let id = published(&app, "a1", "u-1", "Ganz harmlos").await;
    let edit = |body: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            app.patch_json(
                &format!("/api/v1/comments/{id}"),
                json!({"author_id": "u-1", "body": body}),
            )
            .await
        }
    };
    let (status, body) = edit("Du I d i o t").await;
    assert_rejected(status, &body, "banned_word");
    assert_eq!(moderator_view(&app, &id).await["body"], "Ganz harmlos");

    let (status, body) = edit("Du Depp").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending_review");
    assert_eq!(body["body"], "Du Depp");
    let view = moderator_view(&app, &id).await;
    assert_eq!(
        view["detections"],
        json!([{"rule": "suspect_word", "match": "depp"}])
    );
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["comments"], json!([]), "held after the edit");
    assert_eq!(page["article"]["comment_count"], 0);
}

async fn service_views_never_show_detections(db: Db) {
    let app = spawn_app_with_article(db).await;
    set_rules(&app, json!({"suspect_words": ["depp"]})).await;
    let parent = published(&app, "a1", "u-1", "Ein Anfang").await;
    let (status, body) = app
        .post_json("/api/v1/articles/a1/comments", json!({"author": {"id": "u-2", "name": "Zwei"}, "body": "Du Depp", "parent_id": parent}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body.get("detections").is_none(), "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (_, service) = app.get(&format!("/api/v1/comments/{id}")).await;
    assert_eq!(service["status"], "removed");
    assert_eq!(service["body"], Value::Null);
    assert!(service.get("detections").is_none(), "{service}");
    let (_, replies) = app.get(&format!("/api/v1/comments/{parent}/replies")).await;
    assert_eq!(replies["comments"], json!([]));
    let text = replies.to_string();
    assert!(
        !text.contains("detections") && !text.contains("depp"),
        "{text}"
    );
    let (_, moderator) = app
        .get_as_moderator(&format!("/api/v1/comments/{parent}/replies"))
        .await;
    assert_eq!(
        moderator["comments"][0]["detections"],
        json!([{"rule": "suspect_word", "match": "depp"}])
    );
    assert_eq!(moderator_view(&app, &parent).await["detections"], json!([]));
}

async fn a_second_instance_applies_a_change_within_a_second(db: Db) {
    let first = spawn_app(db).await;
    let second = spawn_app_on(first.database.share(), &[], None).await;
    first.put_recent_article("a1", None).await;
    // The second instance has the (default) rules loaded and in use.
    published(&second, "a1", "u-0", "Du Idiot").await;

    set_rules(&first, json!({"banned_words": ["idiot"]})).await;
    let (status, body) = first.post_comment("a1", "u-1", "Du Idiot").await;
    assert_rejected(status, &body, "banned_word");
    // Before the second instance's next check it still applies what it has in force.
    second.clock.advance(Duration::milliseconds(100));
    published(&second, "a1", "u-2", "Du Idiot").await;
    // Within a second (by its clock) the second instance has the change too, once compiled.
    second.clock.advance(Duration::milliseconds(900));
    version_in_force(&second, 1).await;
    let (status, body) = second.post_comment("a1", "u-3", "Du Idiot").await;
    assert_rejected(status, &body, "banned_word");
}

/// Waits until `app` has rules version `version` in force.
async fn version_in_force(app: &TestApp, version: i64) {
    crate::helpers::eventually("the new rules in force", || async {
        let (_, rules) = app.get_as_moderator("/api/v1/moderation/rules").await;
        (rules["version"] == version).then_some(())
    })
    .await;
}

async fn a_second_instance_serves_the_rules_in_force_while_it_compiles_a_large_change(db: Db) {
    let first = spawn_app(db).await;
    let second = spawn_app_on(first.database.share(), &[], None).await;
    first.put_recent_article("a1", None).await;
    let mut banned: Vec<String> = (0..9_999).map(|i| format!("verbotenes-wort{i}")).collect();
    banned.push("idiot".to_string());
    let suspect: Vec<String> = (0..10_000).map(|i| format!("*verdacht{i}*")).collect();
    set_rules(
        &first,
        json!({"banned_words": banned, "suspect_words": suspect}),
    )
    .await;
    // The second instance's next check finds the change: the request that finds it and the
    // ones after it are served the rules in force until the new ones are compiled.
    second.clock.advance(Duration::seconds(1));
    let (status, rules) = second.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rules["version"], 0,
        "served at once with the rules in force"
    );
    published(&second, "a1", "u-1", "Du Idiot").await;
    version_in_force(&second, 1).await;
    let (status, body) = second.post_comment("a1", "u-2", "Du Idiot").await;
    assert_rejected(status, &body, "banned_word");
}
