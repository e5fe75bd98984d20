use std::collections::HashSet;
use std::time::Duration;

use comment_service::domain::states::NotificationStatus;
use comment_service::entity::notification;
use comment_service::jobs::JobName;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    Db, TestApp, assert_error, eventually, queued_ids, spawn_app_on, spawn_app_with,
    spawn_app_with_article, strings_of,
};
use crate::on_both_databases;
use crate::smtp_server::{ReceivedMail, TestSmtpServer};

on_both_databases!(
    flags_email_the_team_once_at_each_threshold_in_one_thread,
    a_flag_while_the_mail_server_is_down_arrives_exactly_once_after_a_restart,
    two_instances_sharing_a_database_send_every_notification_exactly_once,
    email_action_links_show_a_page_on_get_and_act_once_on_post,
    a_confirmation_post_without_the_pages_form_is_refused_and_acts_on_nothing,
    flags_follow_the_rules_of_the_contract,
    the_queue_puts_most_flags_first_and_a_decision_resolves_them,
    a_queue_cursor_out_of_range_is_a_bad_request,
    the_outbox_and_the_log_are_listed_newest_first,
    an_old_email_link_cannot_overturn_a_later_decision,
    a_comment_its_author_deleted_can_never_be_restored,
    email_decisions_name_the_moderator_by_kuerzel,
    links_work_on_every_replica_and_after_a_restart_without_a_configured_secret,
);

const WAIT: Duration = Duration::from_secs(20);

async fn app_with_smtp(db: Db, smtp: &TestSmtpServer, extra: &[(&str, String)]) -> TestApp {
    let mut vars = vec![
        ("SMTP_URL", smtp.url()),
        (
            "PUBLIC_BASE_URL",
            "https://kommentare.example.at".to_string(),
        ),
    ];
    vars.extend(extra.iter().cloned());
    spawn_app_with(db, &vars).await
}

async fn flag(
    app: &TestApp,
    comment: &str,
    reporter: &str,
    reason: &str,
    note: Option<&str>,
) -> (StatusCode, Value) {
    app.post_json(
        &format!("/api/v1/comments/{comment}/flags"),
        json!({"reporter": {"id": reporter}, "reason": reason, "note": note}),
    )
    .await
}

/// The action links of a notification, by label.
fn links(mail: &ReceivedMail) -> (String, String, String) {
    let text = mail.text_part();
    let find = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label) && l.contains("/moderation/actions/"))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_else(|| panic!("no {label} link in {text}"))
            .to_string()
    };
    (find("Freigeben"), find("Ausblenden"), find("Löschen"))
}

/// A comment on a recent article, flagged by `reporter`, once the mail about it has arrived:
/// the mail server, the app, the comment's id and the mail's approve, hide and delete links.
async fn flagged_by_mail(
    db: Db,
    body: &str,
    reporter: &str,
) -> (TestSmtpServer, TestApp, String, (String, String, String)) {
    let smtp = TestSmtpServer::start().await;
    let app = app_with_smtp(db, &smtp, &[]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", body).await;
    flag(&app, &id, reporter, "abuse", None).await;
    let mails = smtp.wait_for(1, WAIT).await;
    let links = links(&mails[0]);
    (smtp, app, id, links)
}

async fn outbox(app: &TestApp) -> Vec<notification::Model> {
    notification::Entity::find().all(&app.db).await.unwrap()
}

/// Waits until every notification is marked sent (the mark follows the SMTP reply).
async fn wait_until_all_sent(app: &TestApp) -> Vec<notification::Model> {
    eventually("every notification in the outbox marked sent", || async {
        let rows = outbox(app).await;
        rows.iter()
            .all(|n| n.status == NotificationStatus::Sent)
            .then_some(rows)
    })
    .await
}

async fn flags_email_the_team_once_at_each_threshold_in_one_thread(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = app_with_smtp(db, &smtp, &[]).await;
    app.put_recent_article("a1", None).await;
    let body = "<b>Fett</b> & \"Zitat\"\nZweite Zeile";
    let id = app.comment("a1", "autor-1", body).await;

    let (status, first) = flag(
        &app,
        &id,
        "leser-1",
        "abuse",
        Some("Beleidigt andere <script>"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["reason"], "abuse");
    assert_eq!(first["comment_id"], id.as_str());
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["forum@krone.at".to_string()]);
    let subject = mail.header("Subject").unwrap();
    assert!(
        subject.contains("Artikel a1") && subject.contains("1 Meldung"),
        "{subject}"
    );
    let text = mail.text_part();
    for expected in [
        "> <b>Fett</b> & \"Zitat\"\n> Zweite Zeile\n",
        "Name autor-1",
        "autor-1",
        "Artikel a1",
        "https://www.krone.at/a1",
        "Beleidigung",
        "Beleidigt andere <script>",
        "MELDUNGEN: 1",
    ] {
        assert!(
            text.contains(expected),
            "{expected} missing in text part:\n{text}"
        );
    }
    let html = mail.html_part();
    assert!(
        html.contains("&lt;b&gt;Fett&lt;/b&gt; &amp; &quot;Zitat&quot;"),
        "escaped body in {html}"
    );
    assert!(!html.contains("<b>Fett</b>") && !html.contains("<script>"));
    let (approve, hide, delete) = links(mail);
    for link in [&approve, &hide, &delete] {
        assert!(
            link.starts_with("https://kommentare.example.at/moderation/actions/"),
            "{link}"
        );
    }
    let root = mail.header("Message-ID").unwrap();

    // The second flag stays below the hide threshold: no email.
    let (status, _) = flag(&app, &id, "leser-2", "spam", None).await;
    assert_eq!(status, StatusCode::CREATED);
    app.state
        .jobs()
        .run(JobName::DeliverNotifications)
        .await
        .unwrap();
    assert_eq!(outbox(&app).await.len(), 1);

    // The third reaches FLAG_HIDE_THRESHOLD: pending review, one more email in the same thread.
    flag(&app, &id, "leser-3", "other", Some("Falsche Behauptung")).await;
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    let second = &mails[1];
    assert_eq!(second.header("In-Reply-To").as_deref(), Some(root.as_str()));
    assert_eq!(second.header("References").as_deref(), Some(root.as_str()));
    assert!(second.header("Subject").unwrap().contains("3 Meldungen"));
    assert!(second.text_part().contains("pending_review"));
    let comment = comment_as_moderator(&app, &id).await;
    assert_eq!(comment["status"], "pending_review");
    assert_eq!(comment["flag_count"], 3);
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(
        page["comments"],
        json!([]),
        "hidden from the public while pending"
    );
    assert_eq!(page["article"]["comment_count"], 0);
    smtp.stop().await;
}

async fn a_flag_while_the_mail_server_is_down_arrives_exactly_once_after_a_restart(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let port = smtp.port();
    smtp.stop().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(db, &[("SMTP_URL", url.clone())]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "autor", "Grenzwertig").await;
    let (status, _) = flag(&app, &id, "leser", "spam", None).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the flag succeeds with the mail server down"
    );
    let attempted = eventually("a finished attempt to send the notification", || async {
        let rows = outbox(&app).await;
        let row = rows.into_iter().next()?;
        (row.attempts >= 1 && row.locked_until.is_none()).then_some(row)
    })
    .await;
    assert_eq!(attempted.status, NotificationStatus::Pending);
    assert!(attempted.last_error.is_some());
    let (_, listed) = app
        .get_as_moderator("/api/v1/moderation/notifications?status=pending")
        .await;
    assert_eq!(listed["notifications"][0]["kind"], "flagged");
    assert!(listed["notifications"][0]["last_error"].is_string());

    // The service restarts, then the mail server comes back on the same port; the retry is due
    // after the backoff.
    app.stop().await;
    app.clock.advance(chrono::Duration::seconds(2));
    let database = app.database;
    let smtp = TestSmtpServer::start_on(port).await.unwrap();
    let restarted = spawn_app_on(
        database,
        &[
            ("SMTP_URL", url),
            ("DELIVER_NOTIFICATIONS_SCHEDULE", "* * * * * *".to_string()),
        ],
        None,
    )
    .await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    // More runs send nothing more.
    for _ in 0..3 {
        restarted
            .state
            .jobs()
            .run(JobName::DeliverNotifications)
            .await
            .unwrap();
    }
    assert_eq!(smtp.received().len(), 1, "sent exactly once");
    let rows = wait_until_all_sent(&restarted).await;
    assert_eq!(smtp.received().len(), 1, "sent exactly once");
    assert!(rows[0].sent_at.is_some());
    smtp.stop().await;
}

async fn two_instances_sharing_a_database_send_every_notification_exactly_once(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let every_second = ("DELIVER_NOTIFICATIONS_SCHEDULE", "* * * * * *".to_string());
    let one = app_with_smtp(db, &smtp, std::slice::from_ref(&every_second)).await;
    let vars = [("SMTP_URL", smtp.url()), every_second];
    let two = spawn_app_on(one.database.share(), &vars, None).await;
    one.put_recent_article("a1", None).await;
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(
            one.comment("a1", &format!("autor-{i}"), &format!("Kommentar {i}"))
                .await,
        );
    }
    let flags = ids.iter().enumerate().map(|(i, id)| {
        let app = if i % 2 == 0 { &one } else { &two };
        flag(app, id, "leser", "spam", None)
    });
    for (status, body) in futures_util::future::join_all(flags).await {
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mails = smtp.wait_for(24, WAIT).await;
    assert_eq!(mails.len(), 24);
    // Both instances keep running their schedules: nothing is sent twice.
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            one.state.jobs().run(JobName::DeliverNotifications),
            two.state.jobs().run(JobName::DeliverNotifications)
        );
        a.unwrap();
        b.unwrap();
    }
    let mails = smtp.received();
    assert_eq!(mails.len(), 24, "every notification exactly once");
    let distinct: HashSet<String> = mails
        .iter()
        .filter_map(|m| m.header("Message-ID"))
        .collect();
    assert_eq!(distinct.len(), 24);
    assert!(
        wait_until_all_sent(&one)
            .await
            .iter()
            .all(|n| n.attempts == 1)
    );
    assert_eq!(smtp.received().len(), 24);
    smtp.stop().await;
}

async fn email_action_links_show_a_page_on_get_and_act_once_on_post(db: Db) {
    let (smtp, app, id, (_, hide, delete)) =
        flagged_by_mail(db, "Ein <em>grober</em> Kommentar", "leser").await;
    let local = |link: &str| link.replace("https://kommentare.example.at", &app.address);

    let page = app.client.get(local(&hide)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Ein &lt;em&gt;grober&lt;/em&gt; Kommentar"),
        "{html}"
    );
    assert!(html.contains("<form method=\"post\""));
    let comment = comment_as_moderator(&app, &id).await;
    assert_eq!(comment["status"], "visible", "GET changes nothing");
    assert_eq!(comment["flag_count"], 1);

    let done = app
        .client
        .post(local(&hide))
        .form(&[("kuerzel", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("ausgeblendet"));
    let comment = comment_as_moderator(&app, &id).await;
    assert_eq!(comment["status"], "hidden");
    assert_eq!(comment["flag_count"], 0);
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(log["entries"][0]["action"], "hide");
    assert_eq!(log["entries"][0]["via"], "email");
    assert_eq!(log["entries"][0]["comment_id"], id.as_str());
    assert_eq!(log["entries"][0]["moderator"], "forum@krone.at");

    let again = app.client.post(local(&hide)).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT, "a link works once");
    assert_eq!(
        app.client.get(local(&hide)).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );

    // Tampered: one character of the signature changed.
    let mut tampered = local(&delete);
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        app.client.post(&tampered).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.client
            .get(format!("{}/moderation/actions/garbage", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    // Expired: a delete link works until ACTION_LINK_DAYS (7) after the email, not after (the
    // delete link of the first email acts no more: the hide decision ended its round).
    let link_made = app.clock.now();
    let other = app.comment("a1", "autor-2", "Noch einer").await;
    flag(&app, &other, "leser", "abuse", None).await;
    let mails = smtp.wait_for(2, WAIT).await;
    let (_, _, other_delete) = links(&mails[1]);
    app.clock
        .set(link_made + chrono::Duration::days(7) - chrono::Duration::seconds(1));
    let page = app.client.get(local(&other_delete)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "a second before expiry");
    app.clock.advance(chrono::Duration::seconds(1));
    let response = app.client.post(local(&other_delete)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::GONE);
    let comment = comment_as_moderator(&app, &id).await;
    assert_eq!(comment["status"], "hidden", "refused links changed nothing");
    let comment = comment_as_moderator(&app, &other).await;
    assert_eq!(
        comment["status"], "visible",
        "refused links changed nothing"
    );
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 1);
    smtp.stop().await;
}

async fn a_confirmation_post_without_the_pages_form_is_refused_and_acts_on_nothing(db: Db) {
    let (smtp, app, id, (_, hide, _)) = flagged_by_mail(db, "Grob", "leser").await;
    let link = hide.replace("https://kommentare.example.at", &app.address);
    let form = "application/x-www-form-urlencoded";
    let oversized = format!("kuerzel=AB&explanation={}", "x".repeat(16 * 1024));
    for (what, content_type, body) in [
        (
            "JSON",
            Some("application/json"),
            r#"{"kuerzel":"AB"}"#.to_string(),
        ),
        ("plain text", Some("text/plain"), "kuerzel=AB".to_string()),
        ("a body over 16 KiB", Some(form), oversized),
        ("an empty body", None, String::new()),
        ("an empty form", Some(form), String::new()),
    ] {
        let mut request = app.client.post(&link).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}: an HTML page like the link's other answers"
        );
        let comment = comment_as_moderator(&app, &id).await;
        assert_eq!(comment["status"], "visible", "{what} acted");
        assert_eq!(comment["flag_count"], 1, "{what} acted");
    }
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(log["entries"], json!([]), "nothing was decided");
    // The link still works with the page's own form.
    let (status, page) = confirm(&app, &link, "AB").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(comment_as_moderator(&app, &id).await["status"], "hidden");
    smtp.stop().await;
}

async fn a_queue_cursor_out_of_range_is_a_bad_request(db: Db) {
    use base64::Engine as _;
    let app = spawn_app_with_article(db).await;
    for i in 0..3 {
        let id = app.comment("a1", &format!("autor-{i}"), "Text").await;
        flag(&app, &id, "leser", "spam", None).await;
    }
    let cursor = |parts: [i64; 5]| {
        let plain = format!("q.{}", parts.map(|p| p.to_string()).join("."));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain)
    };
    let now = app.clock.now().timestamp_micros();
    let page = |cursor: String| {
        let app = &app;
        async move {
            app.get_as_moderator(&format!("/api/v1/moderation/queue?limit=1&cursor={cursor}"))
                .await
        }
    };
    // What a page gives out works.
    let (status, first) = page(cursor([2, 0, 1, now, 1])).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    for (what, parts) in [
        ("flag count i64::MIN", [2, 0, i64::MIN, now, 1]),
        ("a negative flag count", [2, 0, -1, now, 1]),
        ("tier i64::MIN", [i64::MIN, 0, 1, now, 1]),
        ("tier 3", [3, 0, 1, now, 1]),
        ("deadline i64::MIN", [0, i64::MIN, 1, now, 1]),
        ("deadline i64::MAX", [0, i64::MAX, 1, now, 1]),
        (
            "a deadline 250,000 years ago",
            [0, -7_900_000_000_000_000_000, 1, now, 1],
        ),
        (
            "a deadline 200,000 years ahead",
            [0, 6_300_000_000_000_000_000, 1, now, 1],
        ),
        ("first flag i64::MIN", [2, 0, 1, i64::MIN, 1]),
        (
            "first flag 200,000 years ahead",
            [2, 0, 1, 6_300_000_000_000_000_000, 1],
        ),
        ("id i64::MIN", [2, 0, 1, now, i64::MIN]),
    ] {
        let (status, body) = page(cursor(parts)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_error(status, &body, 400, "bad_request");
    }
    // The service is still there.
    let (status, body) = page(cursor([2, 0, 1, now, 1])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn flags_follow_the_rules_of_the_contract(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.put_article("alt", None, "2019-01-01T00:00:00Z").await;
    let id = app.comment("a1", "autor", "Text").await;
    let (status, err) = flag(&app, &id, "autor", "spam", None).await;
    assert_error(status, &err, 422, "validation_failed");
    assert!(err["error"]["details"]["fields"]["reporter.id"].is_string());
    let (status, err) = flag(&app, &id, "leser", "rude", None).await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = flag(&app, &id, "leser", "other", None).await;
    assert_error(status, &err, 422, "validation_failed");
    assert!(err["error"]["details"]["fields"]["note"].is_string());
    let (status, err) = flag(&app, &id, "leser", "spam", Some(&"x".repeat(501))).await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = flag(&app, "999999", "leser", "spam", None).await;
    assert_error(status, &err, 404, "not_found");

    let (status, first) = flag(&app, &id, "leser", "spam", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, again) = flag(&app, &id, "leser", "abuse", Some("anders")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same reader again gets the first flag"
    );
    assert_eq!(again, first);
    let comment = comment_as_moderator(&app, &id).await;
    assert_eq!(comment["flag_count"], 1);

    // Closed discussions can still be flagged (the comment is from before the closure).
    let (_, article) = app.get("/api/v1/articles/alt").await;
    assert_eq!(article["discussion"]["status"], "closed");
    app.moderate_discussion("a1", json!({"action": "close", "reason": "Test"}))
        .await;
    let (status, _) = flag(&app, &id, "leser-2", "abuse", None).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn the_queue_puts_most_flags_first_and_a_decision_resolves_them(db: Db) {
    let app = spawn_app_with_article(db).await;
    let a = app.comment("a1", "autor-a", "A").await;
    let b = app.comment("a1", "autor-b", "B").await;
    let c = app.comment("a1", "autor-c", "C").await;
    flag(&app, &a, "l1", "spam", None).await;
    flag(&app, &c, "l1", "spam", None).await;
    for (i, reason) in ["abuse", "abuse", "spam"].iter().enumerate() {
        flag(&app, &b, &format!("l{i}"), reason, Some("schlimm")).await;
    }
    let (status, err) = app.get("/api/v1/moderation/queue").await;
    assert_error(status, &err, 403, "forbidden");
    let (status, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    assert_eq!(status, StatusCode::OK);
    let order = queued_ids(&queue);
    assert_eq!(order, vec![b.as_str(), a.as_str(), c.as_str()]);
    let top = &queue["items"][0];
    assert_eq!(top["flags"]["total"], 3);
    assert_eq!(top["flags"]["by_reason"], json!({"abuse": 2, "spam": 1}));
    assert_eq!(top["flags"]["notes"].as_array().unwrap().len(), 3);
    assert!(top["flags"]["first_at"].is_string() && top["flags"]["last_at"].is_string());
    assert_eq!(top["article"]["id"], "a1");
    assert_eq!(top["comment"]["status"], "pending_review");
    // Walking the queue one item a page gives the same order.
    let mut walked = Vec::new();
    let mut path = "/api/v1/moderation/queue?limit=1".to_string();
    loop {
        let (_, page) = app.get_as_moderator(&path).await;
        walked.push(
            page["items"][0]["comment"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/moderation/queue?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, vec![b.clone(), a.clone(), c.clone()]);

    let decide = |id: String, action: &'static str| {
        let app = &app;
        async move {
            app.decide(&id, json!({"action": action, "note": "geprüft"}))
                .await
        }
    };
    let (status, approved) = decide(b.clone(), "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "visible");
    assert_eq!(approved["flag_count"], 0);
    let (status, _) = decide(b.clone(), "approve").await;
    assert_eq!(status, StatusCode::OK, "repeating is harmless");
    let (status, err) = decide(b.clone(), "ban").await;
    assert_error(status, &err, 422, "validation_failed");
    let (_, deleted) = decide(a.clone(), "delete").await;
    assert_eq!(deleted["status"], "deleted");
    let (_, queue) = app.get_as_moderator("/api/v1/moderation/queue").await;
    let order = queued_ids(&queue);
    assert_eq!(order, vec![c.as_str()]);
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let actions: Vec<&str> = strings_of(&log["entries"], "action");
    assert_eq!(
        actions,
        vec!["delete", "approve"],
        "newest first, the repeat logged nothing"
    );
    assert_eq!(log["entries"][1]["moderator"], "anna");
    assert_eq!(log["entries"][1]["note"], "geprüft");
    assert_eq!(log["entries"][1]["via"], "api");
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(
        page["article"]["comment_count"], 2,
        "b approved again, a deleted"
    );

    // An approved comment flagged again starts counting from one and reaches the team again.
    let before = outbox(&app).await.len();
    flag(&app, &b, "l9", "spam", None).await;
    assert_eq!(outbox(&app).await.len(), before + 1);
}

async fn the_outbox_and_the_log_are_listed_newest_first(db: Db) {
    let app = spawn_app_with_article(db).await;
    for i in 0..3 {
        let id = app.comment("a1", &format!("autor-{i}"), "Text").await;
        flag(&app, &id, "leser", "spam", None).await;
    }
    wait_until_all_sent(&app).await;
    let (status, all) = app
        .get_as_moderator("/api/v1/moderation/notifications?limit=2")
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = all["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list[0]["id"].as_str().unwrap().parse::<i64>().unwrap()
            > list[1]["id"].as_str().unwrap().parse::<i64>().unwrap()
    );
    assert_eq!(list[0]["status"], "sent", "written to the mail directory");
    assert!(all["next_cursor"].is_string());
    let (_, pending) = app
        .get_as_moderator("/api/v1/moderation/notifications?status=pending")
        .await;
    assert_eq!(pending["notifications"], json!([]));
    let (status, err) = app
        .get_as_moderator("/api/v1/moderation/notifications?status=lost")
        .await;
    assert_error(status, &err, 422, "validation_failed");
    let eml: Vec<_> = std::fs::read_dir(app.mail_dir.path()).unwrap().collect();
    assert_eq!(
        eml.len(),
        3,
        "one .eml file per notification without SMTP_URL"
    );
}

/// POSTs an action link's confirmation form with `kuerzel` (the `local` address of the link).
async fn confirm(app: &TestApp, link: &str, kuerzel: &str) -> (StatusCode, String) {
    let response = app
        .client
        .post(link)
        .form(&[("kuerzel", kuerzel)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// A comment as moderators see it.
async fn comment_as_moderator(app: &TestApp, id: &str) -> Value {
    let (_, comment) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    comment
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    comment_as_moderator(app, id).await["status"].clone()
}

async fn log_entries(app: &TestApp) -> Vec<Value> {
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    log["entries"].as_array().unwrap().clone()
}

async fn decide_by_api(app: &TestApp, id: &str, action: &str) -> (StatusCode, Value) {
    app.decide(id, json!({"action": action})).await
}

async fn an_old_email_link_cannot_overturn_a_later_decision(db: Db) {
    let (smtp, app, id, (approve, hide, delete)) =
        flagged_by_mail(db, "Grenzwertig", "leser-1").await;
    let local = |link: &str| link.replace("https://kommentare.example.at", &app.address);

    // Hidden through the email, then deleted through the API.
    let (status, page) = confirm(&app, &local(&hide), "AB").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, body) = decide_by_api(&app, &id, "delete").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "deleted");

    // The approve link of the same email shows who decided what and when, and changes nothing.
    let page = app.client.get(local(&approve)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let html = page.text().await.unwrap();
    assert!(html.contains("Bereits entschieden"), "{html}");
    assert!(
        html.contains("anna hat ihn am") && html.contains("über die API gelöscht"),
        "{html}"
    );
    // When: the app's clock, in the newsroom's time zone.
    let decided_at = app
        .clock
        .now()
        .with_timezone(&chrono_tz::Europe::Vienna)
        .format("%d.%m.%Y um %H:%M Uhr")
        .to_string();
    assert!(html.contains(&decided_at), "{decided_at} in {html}");
    let (status, html) = confirm(&app, &local(&approve), "CD").await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("anna"), "{html}");
    let (status, _) = confirm(&app, &local(&delete), "CD").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a repeat through an old link is refused too"
    );
    assert_eq!(status_of(&app, &id).await, "deleted");
    let entries = log_entries(&app).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["moderator"], "anna");
    assert_eq!(entries[1]["moderator"], "email:AB");

    // A moderator restores it; a new flag starts a new round, whose email's links act.
    let (status, _) = decide_by_api(&app, &id, "approve").await;
    assert_eq!(status, StatusCode::OK);
    flag(&app, &id, "leser-2", "spam", None).await;
    let mails = smtp.wait_for(2, WAIT).await;
    let (_, new_hide, _) = links(&mails[1]);
    let (status, html) = confirm(&app, &local(&approve), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("anna hat ihn am") && html.contains("freigegeben"),
        "{html}"
    );
    assert_eq!(status_of(&app, &id).await, "visible");
    let (status, html) = confirm(&app, &local(&new_hide), "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(status_of(&app, &id).await, "hidden");
    smtp.stop().await;
}

async fn a_comment_its_author_deleted_can_never_be_restored(db: Db) {
    let (smtp, app, id, (approve, hide, delete)) =
        flagged_by_mail(db, "Der Text des Autors", "leser").await;
    let local = |link: &str| link.replace("https://kommentare.example.at", &app.address);
    let (status, _) = app
        .delete_json(
            &format!("/api/v1/comments/{id}"),
            json!({"author_id": "autor"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Neither link nor API brings the text back.
    for link in [&approve, &hide] {
        let page = app.client.get(local(link)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::CONFLICT);
        assert!(page.text().await.unwrap().contains("Vom Autor gelöscht"));
        let (status, html) = confirm(&app, &local(link), "AB").await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
    }
    for action in ["approve", "hide"] {
        let (status, err) = decide_by_api(&app, &id, action).await;
        assert_error(status, &err, 409, "state_conflict");
        assert_eq!(err["error"]["details"]["current"], "deleted", "{err}");
    }
    assert_eq!(status_of(&app, &id).await, "deleted");
    let (_, page) = app.get("/api/v1/articles/a1/comments").await;
    assert_eq!(page["article"]["comment_count"], 0);

    // Deleting it again is harmless: through the link (its flag is resolved) and the API.
    let (status, html) = confirm(&app, &local(&delete), "AB").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, body) = decide_by_api(&app, &id, "delete").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "deleted");
    assert_eq!(body["flag_count"], 0);
    let (status, err) = decide_by_api(&app, &id, "approve").await;
    assert_error(status, &err, 409, "state_conflict");
    assert_eq!(status_of(&app, &id).await, "deleted");
    let entries = log_entries(&app).await;
    assert_eq!(
        entries.len(),
        1,
        "only the link's delete resolved a flag: {entries:?}"
    );
    assert_eq!(entries[0]["action"], "delete");
    smtp.stop().await;
}

async fn email_decisions_name_the_moderator_by_kuerzel(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = app_with_smtp(db, &smtp, &[]).await;
    let local = |link: &str| link.replace("https://kommentare.example.at", &app.address);
    app.put_recent_article("a1", None).await;
    let first = app.comment("a1", "autor-1", "Eins").await;
    let second = app.comment("a1", "autor-2", "Zwei").await;
    flag(&app, &first, "leser", "abuse", None).await;
    smtp.wait_for(1, WAIT).await;
    flag(&app, &second, "leser", "abuse", None).await;
    let mails = smtp.wait_for(2, WAIT).await;
    let (_, hide_first, _) = links(&mails[0]);
    let (_, hide_second, _) = links(&mails[1]);

    // The page asks for the Kürzel and keeps the token to itself.
    let page = app.client.get(local(&hide_first)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<label for="kuerzel">"#) && html.contains(r#"name="kuerzel""#),
        "{html}"
    );
    assert!(
        html.contains("forum@krone.at"),
        "says what an empty field logs"
    );

    // A bad Kürzel shows the page again, saying why, and changes nothing.
    for bad in ["A1", "A B", "<script>", "ABCDEFGHIJKLMNOPQ"] {
        let (status, html) = confirm(&app, &local(&hide_first), bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {html}");
        assert!(html.contains("1 bis 16 Buchstaben"), "{html}");
        assert!(html.contains(r#"<form method="post""#), "{html}");
        assert!(!html.contains("<script>"), "escaped: {html}");
    }
    assert_eq!(status_of(&app, &first).await, "visible");
    assert!(log_entries(&app).await.is_empty());

    // 16 letters, umlauts included, name the moderator; an empty field names the mailbox.
    let (status, html) = confirm(&app, &local(&hide_first), " ÖzLÜßabcdefghijk ").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, html) = confirm(&app, &local(&hide_second), "").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let entries = log_entries(&app).await;
    assert_eq!(entries[1]["moderator"], "email:ÖzLÜßabcdefghijk");
    assert_eq!(entries[1]["via"], "email");
    assert_eq!(entries[0]["moderator"], "forum@krone.at");
    smtp.stop().await;
}

async fn links_work_on_every_replica_and_after_a_restart_without_a_configured_secret(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let no_secret = ("ACTION_LINK_SECRET", String::new());
    let one = app_with_smtp(db, &smtp, std::slice::from_ref(&no_secret)).await;
    let two = spawn_app_on(one.database.share(), std::slice::from_ref(&no_secret), None).await;
    let on =
        |app: &TestApp, link: &str| link.replace("https://kommentare.example.at", &app.address);
    one.put_recent_article("a1", None).await;
    let id = one.comment("a1", "autor", "Text").await;
    flag(&one, &id, "leser", "abuse", None).await;
    let mails = smtp.wait_for(1, WAIT).await;
    let (_, hide, _) = links(&mails[0]);

    // The other replica knows the link.
    let page = two.client.get(on(&two, &hide)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "valid on the other replica");

    // After both stop and one starts again, the link still acts.
    two.stop().await;
    one.stop().await;
    let database = one.database;
    let restarted = spawn_app_on(database, std::slice::from_ref(&no_secret), None).await;
    let (status, html) = confirm(&restarted, &on(&restarted, &hide), "").await;
    assert_eq!(status, StatusCode::OK, "valid after a restart: {html}");
    assert_eq!(status_of(&restarted, &id).await, "hidden");

    // A configured ACTION_LINK_SECRET wins over the stored one.
    let configured = spawn_app_on(
        restarted.database.share(),
        &[("ACTION_LINK_SECRET", "another-secret-for-links".to_string())],
        None,
    )
    .await;
    let page = configured
        .client
        .get(on(&configured, &hide))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::BAD_REQUEST,
        "signed with another secret"
    );
    smtp.stop().await;
}
