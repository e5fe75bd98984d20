//! The console's author, article and rules pages: what they show, and their forms, which go
//! through the services the API uses (recorded with `via: console` and the moderator's name).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::Console;
use crate::helpers::{Db, TestApp, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    the_author_article_and_rules_pages_show_what_they_are_about,
    every_post_without_the_form_token_is_refused_and_changes_nothing,
    a_ban_with_hide_existing_hides_the_visible_comments_and_is_logged_via_the_console,
    a_note_added_in_the_console_shows_on_the_page_and_through_the_api,
    article_settings_close_and_reopen_in_the_console_show_in_the_article_view,
    a_rules_change_takes_effect_and_the_tester_names_the_deciding_rule,
    bad_form_input_shows_the_form_again_with_the_input_kept,
);

/// An app with the article `a1`, a visible and a held comment of `u-1`, and a signed-in Anna.
async fn setup(db: Db) -> (TestApp, Console, String, String) {
    let app = spawn_app(db).await;
    app.put_recent_article("a1", None).await;
    let visible = app.comment("a1", "u-1", "Ein sichtbarer Kommentar").await;
    put_status(&app, "u-1", json!({"status": "premod"})).await;
    let held = app
        .comment("a1", "u-1", "Ein zurückgehaltener Kommentar")
        .await;
    put_status(&app, "u-1", json!({"status": "active"})).await;
    let console = Console::open(&app, "Anna").await;
    (app, console, visible, held)
}

async fn put_status(app: &TestApp, author: &str, body: Value) {
    let (status, body) = app
        .put_json_as_moderator(&format!("/api/v1/authors/{author}/status"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Posts `fields` with the session's form token.
async fn submit(console: &Console, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![("csrf", console.csrf.as_str())];
    form.extend_from_slice(fields);
    console.post(path, &form).await
}

/// Posts a form that must succeed: 303 back to `back`, which then renders.
async fn submit_ok(console: &Console, path: &str, fields: &[(&str, &str)], back: &str) -> String {
    let response = submit(console, path, fields).await;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{path}: {}",
        response.text().await.unwrap()
    );
    assert!(
        location.as_deref().unwrap_or("").starts_with(back),
        "{location:?}"
    );
    page(console, back).await
}

async fn page(console: &Console, path: &str) -> String {
    let (status, html) = console.get(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    html
}

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

async fn comment_status(app: &TestApp, id: &str) -> String {
    let (_, c) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    c["status"].as_str().unwrap().to_string()
}

/// The text of the element with `id`, tags removed.
fn section<'a>(html: &'a str, start: &str) -> &'a str {
    let at = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {html}"));
    &html[at..]
}

async fn the_author_article_and_rules_pages_show_what_they_are_about(db: Db) {
    let (app, console, visible, held) = setup(db).await;
    let (status, note) = app
        .post_json_as_moderator(
            "/api/v1/authors/u-1/notes",
            json!({"text": "Schreibt oft spät."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");

    // The queue links the author and the article; the nav bar has the rules.
    let queue = page(&console, "/console/queue?tab=held").await;
    assert!(queue.contains(r#"href="/console/authors/u-1""#), "{queue}");
    assert!(queue.contains(r#"href="/console/articles/a1""#), "{queue}");
    assert!(queue.contains(r#"href="/console/rules""#) && queue.contains(">Regeln<"));
    assert!(
        queue.contains("Status: zurückgehalten"),
        "German status: {queue}"
    );
    let comment = page(&console, &format!("/console/comments/{held}")).await;
    assert!(
        comment.contains(r#"href="/console/authors/u-1""#),
        "{comment}"
    );
    assert!(
        comment.contains(r#"href="/console/articles/a1""#),
        "{comment}"
    );

    let author = page(&console, "/console/authors/u-1").await;
    assert!(author.contains(r#"data-status="active""#), "{author}");
    assert!(author.contains("<strong>aktiv</strong>"), "{author}");
    assert!(
        author.contains(r#"<td data-count="visible">1</td>"#),
        "{author}"
    );
    assert!(
        author.contains(r#"<td data-count="held">1</td>"#),
        "{author}"
    );
    for id in [&visible, &held] {
        assert!(
            author.contains(&format!(r#"href="/console/comments/{id}""#)),
            "{id}: {author}"
        );
    }
    assert!(
        author.contains(r#"data-status="pending_review""#),
        "{author}"
    );
    // The status changes, newest first, in German, by who and how.
    let history = section(&author, "<h2>Verlauf</h2>");
    let active = history.find("Verfasser aktiv").expect("the activation");
    let premod = history
        .find("Verfasser unter Vorab-Prüfung")
        .expect("the premod");
    assert!(active < premod, "newest first: {history}");
    assert!(history.contains("anna (API)"), "{history}");
    assert!(author.contains("Schreibt oft spät."), "{author}");
    for id in ["status-form", "note-form", "status-submit", "note-submit"] {
        assert!(author.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    // The form's values stay English.
    assert!(author.contains(r#"<option value="banned""#), "{author}");

    let article = page(&console, "/console/articles/a1").await;
    assert!(article.contains("Artikel a1") && article.contains("https://www.krone.at/a1"));
    assert!(article.contains(r#"data-discussion="open""#), "{article}");
    assert!(
        article.contains("Diskussion: <strong>offen</strong>"),
        "{article}"
    );
    assert!(
        article.contains(r#"<td data-count="visible">1</td>"#),
        "{article}"
    );
    assert!(
        article.contains(r#"<td data-count="pending_review">1</td>"#),
        "{article}"
    );
    assert!(
        article.contains(r#"data-premod="false" data-links="inherit""#),
        "{article}"
    );
    for id in ["settings-form", "close-form", "reopen-form"] {
        assert!(article.contains(&format!(r#"id="{id}""#)), "{id}");
    }

    let rules = page(&console, "/console/rules").await;
    assert!(rules.contains(r#"aria-current="page">Regeln"#), "{rules}");
    assert!(rules.contains("Version 0"), "{rules}");
    assert!(rules.contains(r#"id="rule-test-form""#) && rules.contains(r#"id="rules-form""#));
    assert!(
        rules.contains(r#"name="repeat_post_minutes" inputmode="numeric" value="10""#),
        "{rules}"
    );

    for missing in [
        "/console/authors/",
        "/console/articles/nope",
        "/console/articles/a%20b",
    ] {
        assert_eq!(
            console.get(missing).await.0,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    // An author not seen yet has a page (a status may be set before they post).
    let unseen = page(&console, "/console/authors/u-new").await;
    assert!(unseen.contains("noch nichts geschrieben"), "{unseen}");
}

async fn every_post_without_the_form_token_is_refused_and_changes_nothing(db: Db) {
    let (app, console, visible, _) = setup(db).await;
    let posts: [(&str, &[(&str, &str)]); 7] = [
        (
            "/console/authors/u-1/status",
            &[
                ("status", "banned"),
                ("reason", "Troll"),
                ("hide_existing", "true"),
                ("ground", "terms"),
                ("category", "insult"),
            ],
        ),
        ("/console/authors/u-1/notes", &[("text", "Notiz")]),
        (
            "/console/articles/a1/settings",
            &[("premod", "true"), ("links", "reject")],
        ),
        ("/console/articles/a1/close", &[("reason", "Zu")]),
        (
            "/console/articles/a1/reopen",
            &[("until", "2099-01-01T00:00")],
        ),
        ("/console/rules", &[("banned_words", "Depp")]),
        ("/console/rules/test", &[("text", "Depp")]),
    ];
    for (path, fields) in posts {
        let without = console.post(path, fields).await;
        assert_eq!(without.status(), StatusCode::FORBIDDEN, "{path}");
        let mut forged = vec![("csrf", "forged")];
        forged.extend_from_slice(fields);
        let forged = console.post(path, &forged).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let (_, author) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(author["status"], "active", "{author}");
    assert_eq!(comment_status(&app, &visible).await, "visible");
    let (_, notes) = app.get_as_moderator("/api/v1/authors/u-1/notes").await;
    assert_eq!(notes["notes"], json!([]), "{notes}");
    let (_, article) = app.get("/api/v1/articles/a1").await;
    assert_eq!(
        article["settings"],
        json!({"premod": false, "links": "inherit", "message": null})
    );
    assert_eq!(article["discussion"]["status"], "open");
    let (_, rules) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(rules["version"], 0, "{rules}");
    let (_, log) = app
        .get_as_moderator("/api/v1/moderation/log?limit=100")
        .await;
    let by_console: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["via"] == "console")
        .collect();
    assert!(by_console.is_empty(), "{log}");
}

async fn a_ban_with_hide_existing_hides_the_visible_comments_and_is_logged_via_the_console(db: Db) {
    let (app, console, visible, held) = setup(db).await;
    let second = app.comment("a1", "u-1", "Noch ein sichtbarer").await;
    let other = app.comment("a1", "u-2", "Von jemand anderem").await;
    let author = submit_ok(
        &console,
        "/console/authors/u-1/status",
        &[
            ("status", "banned"),
            ("until", ""),
            ("reason", "Wiederholte Beleidigungen"),
            ("hide_existing", "true"),
            ("ground", "terms"),
            ("category", "insult"),
            ("legal_reference", ""),
            ("explanation", "Beleidigt andere Leser."),
        ],
        "/console/authors/u-1",
    )
    .await;
    assert!(author.contains(r#"data-status="banned""#), "{author}");
    assert!(author.contains("Wiederholte Beleidigungen"), "{author}");
    assert!(
        author.contains(r#"<td data-count="hidden">2</td>"#),
        "{author}"
    );
    for id in [&visible, &second] {
        assert_eq!(comment_status(&app, id).await, "hidden", "{id}");
        let (_, decision) = app.get(&format!("/api/v1/comments/{id}/decision")).await;
        assert_eq!(decision["action"], "hide", "{decision}");
        assert_eq!(decision["category"], "insult", "{decision}");
        assert_eq!(
            decision["explanation"], "Beleidigt andere Leser.",
            "{decision}"
        );
    }
    assert_eq!(comment_status(&app, &held).await, "pending_review");
    assert_eq!(comment_status(&app, &other).await, "visible");
    let (_, api) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(api["status"], "banned", "{api}");

    let banned = logged(&app, "author_banned").await;
    assert_eq!(banned.len(), 1, "{banned:?}");
    assert_eq!(banned[0]["moderator"], "Anna");
    assert_eq!(banned[0]["via"], "console");
    assert_eq!(banned[0]["author_id"], "u-1");
    let hides = logged(&app, "hide").await;
    assert_eq!(hides.len(), 2, "{hides:?}");
    assert!(
        hides
            .iter()
            .all(|e| e["moderator"] == "Anna" && e["via"] == "console"),
        "{hides:?}"
    );

    // A suspension until a time entered in the newsroom's zone.
    let until = (app.clock.now() + chrono::Duration::days(3))
        .with_timezone(&chrono_tz::Europe::Vienna)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let author = submit_ok(
        &console,
        "/console/authors/u-2/status",
        &[
            ("status", "suspended"),
            ("until", &until),
            ("reason", "Pause"),
        ],
        "/console/authors/u-2",
    )
    .await;
    assert!(author.contains(r#"data-status="suspended""#), "{author}");
    assert_eq!(
        comment_status(&app, &other).await,
        "visible",
        "no hide_existing"
    );
    let (_, api) = app.get_as_moderator("/api/v1/authors/u-2").await;
    assert_eq!(api["status"], "suspended", "{api}");
    let expected = chrono::DateTime::parse_from_rfc3339(api["until"].as_str().unwrap()).unwrap();
    assert_eq!(
        expected
            .with_timezone(&chrono_tz::Europe::Vienna)
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        until
    );
}

async fn a_note_added_in_the_console_shows_on_the_page_and_through_the_api(db: Db) {
    let (app, console, _, _) = setup(db).await;
    let author = submit_ok(
        &console,
        "/console/authors/u-1/notes",
        &[("text", "  Schreibt unter mehreren Namen.  ")],
        "/console/authors/u-1",
    )
    .await;
    let notes = section(&author, r#"id="notes""#);
    assert!(
        notes.contains("Schreibt unter mehreren Namen.") && notes.contains("Anna"),
        "{notes}"
    );
    let (_, page) = app.get_as_moderator("/api/v1/authors/u-1/notes").await;
    assert_eq!(page["notes"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["notes"][0]["text"], "Schreibt unter mehreren Namen.");
    assert_eq!(page["notes"][0]["moderator"], "Anna");
    let entries = logged(&app, "author_note").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["via"], "console");
    assert_eq!(entries[0]["moderator"], "Anna");
    assert_eq!(entries[0]["author_id"], "u-1");
}

async fn article_settings_close_and_reopen_in_the_console_show_in_the_article_view(db: Db) {
    let (app, console, _, _) = setup(db).await;
    let back = "/console/articles/a1";
    let article = submit_ok(
        &console,
        "/console/articles/a1/settings",
        &[
            ("premod", "true"),
            ("links", "reject"),
            ("message", "Vorab moderiert."),
        ],
        back,
    )
    .await;
    assert!(
        article.contains(r#"data-premod="true" data-links="reject""#),
        "{article}"
    );
    assert!(article.contains("Vorab moderiert."), "{article}");
    let (_, view) = app.get("/api/v1/articles/a1").await;
    assert_eq!(
        view["settings"],
        json!({"premod": true, "links": "reject", "message": "Vorab moderiert."})
    );
    // In force for the next comment.
    let (status, body) = app
        .post_comment("a1", "u-3", "Mit https://example.com")
        .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    let entries = logged(&app, "article_settings").await;
    assert_eq!(
        (entries[0]["via"].as_str(), entries[0]["moderator"].as_str()),
        (Some("console"), Some("Anna"))
    );

    // Unchecked, the box turns premod off again.
    let article = submit_ok(
        &console,
        "/console/articles/a1/settings",
        &[("links", "inherit"), ("message", "")],
        back,
    )
    .await;
    assert!(
        article.contains(r#"data-premod="false" data-links="inherit""#),
        "{article}"
    );

    let article = submit_ok(
        &console,
        "/console/articles/a1/close",
        &[("reason", "Zu viele Beleidigungen")],
        back,
    )
    .await;
    assert!(article.contains(r#"data-discussion="closed""#), "{article}");
    assert!(article.contains("vom Community-Team"), "{article}");
    assert!(
        !article.contains(r#"id="close-form""#),
        "no close form for a closed discussion"
    );
    let (_, view) = app.get("/api/v1/articles/a1").await;
    assert_eq!(view["discussion"]["status"], "closed", "{view}");
    assert_eq!(view["discussion"]["closed_reason"], "moderator", "{view}");
    let (status, _) = app.post_comment("a1", "u-3", "Noch etwas").await;
    assert_eq!(status.as_u16(), 403);

    let article = submit_ok(
        &console,
        "/console/articles/a1/reopen",
        &[("until", ""), ("reason", "")],
        back,
    )
    .await;
    assert!(article.contains(r#"data-discussion="open""#), "{article}");
    let (_, view) = app.get("/api/v1/articles/a1").await;
    assert_eq!(view["discussion"]["status"], "open", "{view}");
    for action in ["close_discussion", "reopen_discussion"] {
        let entries = logged(&app, action).await;
        assert_eq!(entries.len(), 1, "{action}");
        assert_eq!(entries[0]["via"], "console", "{action}");
        assert_eq!(entries[0]["moderator"], "Anna", "{action}");
    }
}

/// The outcome and the listed rules of the tester's answer.
fn tested(html: &str) -> (String, String) {
    let result = section(html, r#"id="rule-test-result""#);
    let outcome = regex::Regex::new(r#"data-outcome="(\w+)""#)
        .unwrap()
        .captures(result)
        .expect("an outcome")[1]
        .to_string();
    let end = result.find("</div>").unwrap_or(result.len());
    (outcome, result[..end].to_string())
}

async fn a_rules_change_takes_effect_and_the_tester_names_the_deciding_rule(db: Db) {
    let (app, console, _, _) = setup(db).await;
    let rules = submit_ok(
        &console,
        "/console/rules",
        &[
            ("banned_words", "Depp\n  \nTrottel"),
            ("suspect_words", "Idiot"),
            ("links", "premod"),
            ("link_allowlist", "krone.at"),
            ("repeat_post_minutes", "10"),
            ("new_author_premod", "0"),
            ("history_window_days", "30"),
            ("history_min_comments", "5"),
            ("history_max_rejected_ratio", "0.5"),
        ],
        "/console/rules",
    )
    .await;
    assert!(
        rules.contains("Version 1") && rules.contains("von Anna"),
        "{rules}"
    );
    assert!(rules.contains("Depp\nTrottel</textarea>"), "{rules}");
    let (_, api) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(api["banned_words"], json!(["Depp", "Trottel"]), "{api}");
    assert_eq!(api["links"], "premod");
    let entries = logged(&app, "rules_changed").await;
    assert_eq!(
        (entries[0]["via"].as_str(), entries[0]["moderator"].as_str()),
        (Some("console"), Some("Anna"))
    );
    // In force for posts.
    let (status, body) = app.post_comment("a1", "u-5", "Du D.e.p.p").await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert_eq!(body["error"]["details"]["rule"], "banned_word", "{body}");

    let cases: [(&str, &str, &str, &str); 5] = [
        ("Ein freundlicher Satz", "accept", "", ""),
        ("So ein I d i o t", "hold", "suspect_word", "Idiot"),
        (
            "Siehe https://example.com/x",
            "hold",
            "links",
            "example.com",
        ),
        ("Auf https://www.krone.at/x ist es", "accept", "", ""),
        ("Du Trottel", "reject", "banned_word", "Trottel"),
    ];
    for (text, outcome, rule, matched) in cases {
        let response = submit(
            &console,
            "/console/rules/test",
            &[("text", text), ("article", ""), ("author", "")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{text}");
        let (got, listed) = tested(&response.text().await.unwrap());
        assert_eq!(got, outcome, "{text}: {listed}");
        if !rule.is_empty() {
            assert!(
                listed.contains(&format!(r#"data-rule="{rule}""#)),
                "{text}: {listed}"
            );
            assert!(listed.contains(&format!("„{matched}“")), "{text}: {listed}");
        }
    }
    // With an article and an author, their settings and status count as for a post.
    submit_ok(
        &console,
        "/console/articles/a1/settings",
        &[("premod", "true"), ("links", "inherit")],
        "/console/articles/a1",
    )
    .await;
    let response = submit(
        &console,
        "/console/rules/test",
        &[("text", "Freundlich"), ("article", "a1"), ("author", "u-1")],
    )
    .await;
    let (got, listed) = tested(&response.text().await.unwrap());
    assert_eq!(got, "hold", "{listed}");
    assert!(listed.contains(r#"data-rule="premod_article""#), "{listed}");
    // A repeat of the author's own recent text is refused.
    let response = submit(
        &console,
        "/console/rules/test",
        &[("text", "ein sichtbarer  Kommentar EIN"), ("author", "u-1")],
    )
    .await;
    let (got, _) = tested(&response.text().await.unwrap());
    assert_eq!(got, "accept");
    let response = submit(
        &console,
        "/console/rules/test",
        &[("text", "Ein sichtbarer Kommentar"), ("author", "u-1")],
    )
    .await;
    let (got, listed) = tested(&response.text().await.unwrap());
    assert_eq!(got, "reject", "{listed}");
    assert!(listed.contains(r#"data-rule="repeat_post""#), "{listed}");
    put_status(&app, "u-9", json!({"status": "banned", "reason": "Troll"})).await;
    let response = submit(
        &console,
        "/console/rules/test",
        &[("text", "Hallo"), ("author", "u-9")],
    )
    .await;
    let (got, listed) = tested(&response.text().await.unwrap());
    assert_eq!(got, "reject", "{listed}");
    assert!(listed.contains(r#"data-rule="author_status""#), "{listed}");
    // The tester stores nothing.
    let (_, api) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(api["stats"]["comments"], 2, "{api}");
}

async fn bad_form_input_shows_the_form_again_with_the_input_kept(db: Db) {
    let (app, console, visible, _) = setup(db).await;
    // A ban with hide_existing but no category; a suspension without an end; a past end.
    let past = (app.clock.now() - chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Europe::Vienna)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let refused: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("status", "banned"),
                ("reason", "Mein Grund 1"),
                ("hide_existing", "true"),
                ("ground", "terms"),
                ("category", ""),
            ],
            "Art des Inhalts",
        ),
        (
            &[
                ("status", "suspended"),
                ("reason", "Mein Grund 2"),
                ("until", ""),
            ],
            "Gesperrt bis",
        ),
        (
            &[
                ("status", "suspended"),
                ("reason", "Mein Grund 3"),
                ("until", &past),
            ],
            "Gesperrt bis",
        ),
    ];
    for (fields, problem) in refused {
        let response = submit(&console, "/console/authors/u-1/status", fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        let html = response.text().await.unwrap();
        let form = section(&html, r#"id="status-form""#);
        assert!(
            form.contains(r#"role="alert""#) && form.contains(problem),
            "{fields:?}: {form}"
        );
        let reason = fields.iter().find(|(k, _)| *k == "reason").unwrap().1;
        assert!(
            form.contains(&format!(r#"value="{reason}""#)),
            "kept: {form}"
        );
        assert!(
            form.contains(r#"<option value="suspended" selected>"#)
                || form.contains(r#"<option value="banned" selected>"#),
            "{form}"
        );
    }
    let (_, author) = app.get_as_moderator("/api/v1/authors/u-1").await;
    assert_eq!(author["status"], "active");
    assert_eq!(comment_status(&app, &visible).await, "visible");

    let long = "x".repeat(2001);
    let response = submit(&console, "/console/authors/u-1/notes", &[("text", &long)]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let form = section(&html, r#"id="note-form""#);
    assert!(
        form.contains("Notiz (1 bis 2.000 Zeichen)") && form.contains(&long),
        "{form}"
    );

    let response = submit(
        &console,
        "/console/articles/a1/settings",
        &[("links", "sometimes"), ("message", "Mein Hinweis")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let form = section(&html, r#"id="settings-form""#);
    assert!(
        form.contains("Bitte prüfen: Links.") && form.contains("Mein Hinweis</textarea>"),
        "{form}"
    );

    let response = submit(
        &console,
        "/console/articles/a1/reopen",
        &[("until", &past), ("reason", "Mein Grund")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let form = section(&html, r#"id="reopen-form""#);
    assert!(
        form.contains(r#"role="alert""#) && form.contains(&format!(r#"value="{past}""#)),
        "{form}"
    );

    let response = submit(
        &console,
        "/console/rules",
        &[
            ("banned_words", "Depp\nTrottel"),
            ("repeat_post_minutes", "zehn"),
            ("history_max_rejected_ratio", "2"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let form = section(&html, r#"id="rules-form""#);
    assert!(
        form.contains("Wiederholungen (Minuten)") && form.contains("Depp\nTrottel</textarea>"),
        "{form}"
    );
    assert!(form.contains(r#"value="zehn""#), "{form}");
    let response = submit(
        &console,
        "/console/rules",
        &[("history_max_rejected_ratio", "2")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Vorgeschichte"));
    let (_, rules) = app.get_as_moderator("/api/v1/moderation/rules").await;
    assert_eq!(rules["version"], 0, "{rules}");

    let response = submit(
        &console,
        "/console/rules/test",
        &[("text", "  "), ("article", "nope")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
