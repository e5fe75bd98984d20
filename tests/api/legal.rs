//! Legal duties (EU Digital Services Act): statements of reasons, what reporters and authors are
//! told, notices of illegal content with deadlines and reminders, and appeals, on both databases.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use comment_service::jobs::{JobName, RunOutcome};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, TestApp, assert_error, json_of, queued_ids, spawn_app_on,
    spawn_app_with, spawn_app_with_article,
};
use crate::on_both_databases;
use crate::smtp_server::{ReceivedMail, TestSmtpServer};

on_both_databases!(
    hide_and_delete_need_a_statement_of_reasons_and_approve_none,
    the_author_is_told_why_and_until_when_to_appeal,
    an_automated_hold_is_stated_as_automated,
    a_reporter_learns_what_became_of_the_flag,
    a_notice_of_illegal_content_is_urgent_and_first_in_the_queue,
    one_reminder_goes_out_two_hours_before_an_undecided_deadline,
    an_appeal_is_decided_by_another_moderator_once_within_six_months,
    the_email_page_asks_for_the_statement_of_reasons,
);

const WAIT: StdDuration = StdDuration::from_secs(20);
/// A second moderator, for appeals.
const BERND_TOKEN: &str = "test-moderator-bernd";

/// Waits until the outbox has nothing pending (every mail sent and marked).
async fn all_sent(app: &TestApp) {
    crate::helpers::eventually("every notification marked sent", || async {
        let (_, pending) = app
            .get_as_moderator("/api/v1/moderation/notifications?status=pending")
            .await;
        (pending["notifications"] == json!([])).then_some(())
    })
    .await;
}

fn wire(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

async fn flag(app: &TestApp, comment: &str, body: Value) -> (StatusCode, Value) {
    app.post_json(&format!("/api/v1/comments/{comment}/flags"), body)
        .await
}

fn notice(reporter: &str) -> Value {
    json!({"reporter": {"id": reporter, "email": "leserin@example.at"}, "reason": "illegal",
           "note": "Aufruf zu Gewalt gegen eine Gruppe", "legal_reference": "§ 282 StGB"})
}

async fn statement(app: &TestApp, comment: &str) -> (StatusCode, Value) {
    app.get(&format!("/api/v1/comments/{comment}/decision"))
        .await
}

async fn appeal(app: &TestApp, comment: &str, author: &str) -> (StatusCode, Value) {
    app.post_json(
        &format!("/api/v1/comments/{comment}/appeal"),
        json!({"author_id": author, "text": "Das war Satire, keine Beleidigung."}),
    )
    .await
}

async fn queue(app: &TestApp, kind: &str) -> Value {
    let (status, body) = app
        .get_as_moderator(&format!("/api/v1/moderation/queue?kind={kind}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn hide_and_delete_need_a_statement_of_reasons_and_approve_none(db: Db) {
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "u-1", "Text").await;
    for (body, fields) in [
        (json!({"action": "hide"}), vec!["category", "ground"]),
        (
            json!({"action": "delete", "ground": "law", "category": "rude"}),
            vec!["category", "ground"],
        ),
        (
            json!({"action": "delete", "ground": "illegal", "category": "threat"}),
            vec!["legal_reference"],
        ),
    ] {
        let (status, error) = app.decide_exactly(&id, body.clone()).await;
        assert_error(status, &error, 422, "validation_failed");
        let got: Vec<&str> = error["error"]["details"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(got, fields, "{body}");
    }
    let (status, comment) = app
        .decide_exactly(
            &id,
            json!({"action": "delete", "ground": "illegal", "category": "threat",
                   "explanation": "Drohung gegen einen anderen Leser.", "legal_reference": "§ 107 StGB"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{comment}");
    assert_eq!(comment["status"], "deleted");
    let (status, _) = app.decide_exactly(&id, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK, "approve needs no statement");
}

async fn the_author_is_told_why_and_until_when_to_appeal(db: Db) {
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "u-1", "Du bist ein Trottel").await;
    let (status, body) = statement(&app, &id).await;
    assert_error(status, &body, 404, "not_found");
    let decided_at = app.clock.now();
    let (status, _) = app
        .decide_exactly(
            &id,
            json!({"action": "hide", "ground": "terms", "category": "insult",
                   "explanation": "Beschimpft andere Leser.", "note": "intern"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = statement(&app, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"action": "hide", "ground": "terms", "category": "insult",
               "explanation": "Beschimpft andere Leser.", "legal_reference": null,
               "automated": false, "decided_at": wire(decided_at),
               "appeal": {"possible_until": wire(decided_at + chrono::Months::new(6)), "status": null}})
    );
    assert!(
        !body.to_string().contains("intern"),
        "the internal note stays inside"
    );
}

async fn an_automated_hold_is_stated_as_automated(db: Db) {
    let app = spawn_app_with_article(db).await;
    let (status, _) = app
        .put_json_as_moderator(
            "/api/v1/moderation/rules",
            json!({"suspect_words": ["depp"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, held) = app.post_comment("a1", "u-1", "Du Depp").await;
    let id = held["id"].as_str().unwrap();
    let (status, body) = statement(&app, id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["action"], "hold");
    assert_eq!(body["automated"], true);
    assert_eq!(body["ground"], "terms");
    assert_eq!(body["appeal"]["possible_until"], Value::Null);
    let explanation = body["explanation"].as_str().unwrap();
    assert!(explanation.contains("automatisch"), "{explanation}");
    assert!(
        !explanation.to_lowercase().contains("depp"),
        "never the matched word"
    );
    let (status, body) = appeal(&app, id, "u-1").await;
    assert_error(status, &body, 409, "state_conflict");

    let (status, _) = app
        .decide(
            id,
            json!({"action": "delete", "category": "insult", "ground": "terms"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = statement(&app, id).await;
    assert_eq!(body["action"], "delete");
    assert_eq!(body["automated"], false);
}

async fn a_reporter_learns_what_became_of_the_flag(db: Db) {
    let app = spawn_app_with_article(db).await;
    let id = app.comment("a1", "u-1", "Werbung: billig kaufen").await;
    let (status, created) = flag(
        &app,
        &id,
        json!({"reporter": {"id": "r-1"}, "reason": "spam"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let flag_id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/flags/{flag_id}");
    let (status, body) = app.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "open");
    assert_eq!(body["decision"], Value::Null);
    assert_eq!(body["reason"], "spam");
    let (status, _) = app
        .decide(
            &id,
            json!({"action": "hide", "ground": "terms", "category": "spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let decided_at = app.clock.now();
    let (_, body) = app.get(&path).await;
    assert_eq!(body["status"], "decided");
    assert_eq!(
        body["decision"],
        json!({"action": "hide", "ground": "terms", "category": "spam", "decided_at": wire(decided_at)})
    );
    for missing in ["/api/v1/flags/999999", "/api/v1/flags/abc"] {
        let (status, body) = app.get(missing).await;
        assert_error(status, &body, 404, "not_found");
    }
}

async fn a_notice_of_illegal_content_is_urgent_and_first_in_the_queue(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    let popular = app.comment("a1", "u-1", "Sehr umstritten").await;
    for reporter in ["r-1", "r-2"] {
        let (status, _) = flag(
            &app,
            &popular,
            json!({"reporter": {"id": reporter}, "reason": "abuse"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let illegal = app.comment("a1", "u-2", "Aufruf zu Gewalt").await;
    for (body, field) in [
        (
            json!({"reporter": {"id": "r-3"}, "reason": "illegal"}),
            "note",
        ),
        (
            json!({"reporter": {"id": "r-3"}, "reason": "illegal", "note": "zu kurz"}),
            "note",
        ),
        (
            json!({"reporter": {"id": "r-3", "email": "keine adresse"}, "reason": "illegal",
                   "note": "Aufruf zu Gewalt gegen eine Gruppe"}),
            "reporter.email",
        ),
    ] {
        let (status, error) = flag(&app, &illegal, body).await;
        assert_error(status, &error, 422, "validation_failed");
        assert!(
            error["error"]["details"]["fields"][field].is_string(),
            "{error}"
        );
    }
    let flagged_at = app.clock.now();
    let (status, body) = flag(&app, &illegal, notice("r-3")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let due = flagged_at + Duration::hours(24);

    let all = queue(&app, "all").await;
    assert_eq!(
        queued_ids(&all),
        [illegal.as_str(), popular.as_str()],
        "{all}"
    );
    assert_eq!(all["items"][0]["due_at"], wire(due));
    assert_eq!(all["items"][0]["reasons"], json!(["flagged", "illegal"]));
    assert_eq!(all["items"][1]["due_at"], Value::Null);
    assert_eq!(
        queued_ids(&queue(&app, "illegal").await),
        [illegal.as_str()]
    );

    // The first mail (abuse, popular) is not urgent; the notice's is.
    let mails = smtp.wait_for(2, WAIT).await;
    let urgent: Vec<&ReceivedMail> = mails
        .iter()
        .filter(|m| m.header("Subject").unwrap().starts_with("[DRINGEND]"))
        .collect();
    assert_eq!(urgent.len(), 1, "one urgent mail");
    let mail = urgent[0];
    assert_eq!(mail.header("Importance").as_deref(), Some("high"));
    let local = due.with_timezone(&chrono_tz::Europe::Vienna);
    let deadline = format!("{} (Wiener Zeit)", local.format("%d.%m.%Y, %H:%M Uhr"));
    assert!(mail.text_part().contains(&deadline), "{}", mail.text_part());
    assert!(mail.html_part().contains(&deadline));
    let calm = mails
        .iter()
        .find(|m| !m.header("Subject").unwrap().starts_with("[DRINGEND]"));
    assert!(calm.unwrap().header("Importance").is_none());

    // A decision answers the notice: no deadline any more.
    let (status, _) = app
        .decide(
            &illegal,
            json!({"action": "delete", "ground": "illegal", "category": "hate", "legal_reference": "§ 283 StGB"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        queued_ids(&queue(&app, "illegal").await),
        Vec::<&str>::new()
    );
}

async fn one_reminder_goes_out_two_hours_before_an_undecided_deadline(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    let second = spawn_app_on(app.database.share(), &[("SMTP_URL", smtp.url())], None).await;
    app.put_recent_article("a1", None).await;
    let undecided = app.comment("a1", "u-1", "Aufruf zu Gewalt").await;
    let decided = app.comment("a1", "u-2", "Noch ein Aufruf").await;
    let start = app.clock.now();
    for id in [&undecided, &decided] {
        let (status, _) = flag(&app, id, notice("r-1")).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    smtp.wait_for(2, WAIT).await;
    let (status, _) = app.decide(&decided, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::OK);
    // The notices' mails are recorded as sent before the clock jumps: a jump while a send is in
    // flight makes its lease look expired, and the mail would go out twice.
    all_sent(&app).await;
    let run = |app: &TestApp| {
        let jobs = app.state.jobs().clone();
        async move { jobs.run(JobName::SendReminders).await.unwrap() }
    };

    app.clock
        .set(start + Duration::hours(22) - Duration::seconds(1));
    assert_eq!(run(&app).await, RunOutcome::Done(0), "not yet");
    app.clock.set(start + Duration::hours(22));
    // Both replicas at once: one reminder.
    let (one, two) = tokio::join!(run(&app), run(&second));
    let sent = [one, two]
        .iter()
        .map(|o| match o {
            RunOutcome::Done(n) => *n,
            RunOutcome::Busy => 0,
        })
        .sum::<u64>();
    assert_eq!(sent, 1, "{one:?} {two:?}");

    let mails = smtp.wait_for(3, WAIT).await;
    let reminder = mails
        .iter()
        .find(|m| m.header("Subject").unwrap().contains("Erinnerung"))
        .expect("a reminder");
    all_sent(&app).await;
    app.clock.advance(Duration::hours(1));
    assert_eq!(run(&app).await, RunOutcome::Done(0), "never twice");
    let subject = reminder.header("Subject").unwrap();
    assert!(
        subject.starts_with("[DRINGEND] Erinnerung: Frist endet"),
        "{subject}"
    );
    assert_eq!(reminder.header("Importance").as_deref(), Some("high"));
    let first = mails
        .iter()
        .find(|m| {
            m.text_part()
                .contains(&format!("Kommentar-ID: {undecided}"))
        })
        .unwrap();
    assert_eq!(
        reminder.header("In-Reply-To"),
        first.header("Message-ID"),
        "in the notice's thread"
    );
    assert!(
        reminder
            .text_part()
            .contains(&format!("Kommentar-ID: {undecided}"))
    );
    // The outbox says it without waiting: two notices and one reminder were ever queued, and
    // nothing is left to send.
    all_sent(&app).await;
    let (_, outbox) = app
        .get_as_moderator("/api/v1/moderation/notifications")
        .await;
    assert_eq!(
        outbox["notifications"].as_array().unwrap().len(),
        3,
        "no reminder for the decided notice"
    );
    assert_eq!(smtp.received().len(), 3);
}

async fn an_appeal_is_decided_by_another_moderator_once_within_six_months(db: Db) {
    let tokens = format!(
        "web:service:{SERVICE_TOKEN},anna:moderator:{MODERATOR_TOKEN},bernd:moderator:{BERND_TOKEN}"
    );
    let app = spawn_app_with(db, &[("API_TOKENS", tokens)]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "u-1", "Satire!").await;
    let (status, body) = appeal(&app, &id, "u-1").await;
    assert_error(status, &body, 409, "state_conflict");
    let (status, _) = app
        .decide(
            &id,
            json!({"action": "hide", "ground": "terms", "category": "insult"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = appeal(&app, &id, "u-2").await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = app
        .post_json(
            &format!("/api/v1/comments/{id}/appeal"),
            json!({"author_id": "u-1", "text": "  "}),
        )
        .await;
    assert_error(status, &body, 422, "validation_failed");

    app.clock.advance(Duration::days(30));
    let (status, filed) = appeal(&app, &id, "u-1").await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    assert_eq!(filed["status"], "open");
    let (status, body) = appeal(&app, &id, "u-1").await;
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "open");

    let appeals = queue(&app, "appeal").await;
    assert_eq!(queued_ids(&appeals), [id.as_str()]);
    assert_eq!(appeals["items"][0]["reasons"], json!(["appeal"]));
    let (_, body) = statement(&app, &id).await;
    assert_eq!(body["appeal"]["status"], "open");

    // Not by the moderator who decided.
    let (status, body) = app.decide(&id, json!({"action": "approve"})).await;
    assert_error(status, &body, 403, "forbidden");
    let path = format!("/api/v1/comments/{id}/moderation");
    let (status, body) = json_of(
        app.request(
            Method::POST,
            &path,
            Some(BERND_TOKEN),
            Some(json!({"action": "approve"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "visible");
    let (_, body) = statement(&app, &id).await;
    assert_eq!(body["appeal"]["status"], "reversed");
    assert_eq!(queued_ids(&queue(&app, "appeal").await), Vec::<&str>::new());

    // A later decision can be appealed again, but not after six months.
    let (status, _) = app
        .decide(
            &id,
            json!({"action": "delete", "ground": "terms", "category": "insult"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(Duration::days(184));
    let (status, body) = appeal(&app, &id, "u-1").await;
    assert_error(status, &body, 409, "state_conflict");
    assert_eq!(body["error"]["details"]["current"], "appeal_period_over");
}

async fn the_email_page_asks_for_the_statement_of_reasons(db: Db) {
    let smtp = TestSmtpServer::start().await;
    let app = spawn_app_with(db, &[("SMTP_URL", smtp.url())]).await;
    app.put_recent_article("a1", None).await;
    let id = app.comment("a1", "u-1", "Werbung für Pillen").await;
    let (status, _) = flag(
        &app,
        &id,
        json!({"reporter": {"id": "r-1"}, "reason": "spam"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let mails = smtp.wait_for(1, WAIT).await;
    let text = mails[0].text_part();
    let hide = text
        .lines()
        .find(|l| l.trim_start().starts_with("Ausblenden") && l.contains("/moderation/actions/"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap();
    let link = format!(
        "{}{}",
        app.address,
        &hide[hide.find("/moderation/actions/").unwrap()..]
    );
    let page = app
        .client
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<select id="category" name="category">"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="spam" selected>Spam/Werbung</option>"#),
        "the category the flags suggest: {page}"
    );
    assert!(page.contains(r#"<option value="terms" selected>"#));
    assert!(page.contains(r#"name="explanation""#) && page.contains(r#"name="legal_reference""#));

    let post = |form: Vec<(&'static str, &'static str)>| {
        let client = app.client.clone();
        let link = link.clone();
        async move {
            let response = client.post(&link).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, page) = post(vec![
        ("ground", "illegal"),
        ("category", "spam"),
        ("explanation", "Werbung"),
        ("kuerzel", "BK"),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Rechtsgrundlage"), "{page}");
    assert!(
        page.contains(r#"<option value="illegal" selected>"#),
        "keeps the input"
    );
    let (status, page) = post(vec![
        ("ground", "terms"),
        ("category", "spam"),
        ("explanation", "Werbung ist im Forum nicht erlaubt."),
        ("legal_reference", ""),
        ("kuerzel", "BK"),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (_, body) = statement(&app, &id).await;
    assert_eq!(body["action"], "hide");
    assert_eq!(body["category"], "spam");
    assert_eq!(body["explanation"], "Werbung ist im Forum nicht erlaubt.");
}
