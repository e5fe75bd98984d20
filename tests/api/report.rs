//! The transparency report: `GET /api/v1/moderation/report?from=&to=`.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use comment_service::domain::states::{AppealStatus, Category, DecidedAction, Ground, Via};
use comment_service::entity::{appeal, decision};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, TestApp, assert_error, generate, spawn_app,
};
use crate::on_both_databases;

on_both_databases!(
    the_report_counts_exactly_what_happened_in_the_period,
    the_report_as_csv_has_the_same_figures,
    an_empty_period_has_zeros_and_no_percentiles,
    bad_periods_are_refused_with_the_fields_named,
    the_report_is_for_moderators_only,
    the_report_of_generated_data_agrees_with_the_rows,
);

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

/// The report's path with `from` and `to` as given (a `+` offset percent-encoded).
fn report_path(from: &str, to: &str) -> String {
    format!(
        "/api/v1/moderation/report?from={}&to={}",
        from.replace('+', "%2B"),
        to.replace('+', "%2B")
    )
}

async fn report(app: &TestApp, from: &str, to: &str) -> Value {
    let (status, body) = app.get_as_moderator(&report_path(from, to)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn csv(app: &TestApp, from: &str, to: &str) -> (String, String) {
    let response = app
        .client
        .get(format!("{}{}", app.address, report_path(from, to)))
        .bearer_auth(MODERATOR_TOKEN)
        .header(ACCEPT, "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.text().await.unwrap())
}

async fn flag(app: &TestApp, comment: &str, reporter: &str, reason: &str) {
    let (status, body) = app
        .post_json(
            &format!("/api/v1/comments/{comment}/flags"),
            json!({"reporter": {"id": reporter}, "reason": reason,
                        "note": "Das ist Verhetzung nach § 283 StGB"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn set_status(app: &TestApp, author: &str, status: &str) {
    let until = (app.clock.now() + Duration::days(7)).to_rfc3339();
    let body = match status {
        "suspended" => json!({"status": status, "until": until, "reason": "Pause"}),
        _ => json!({"status": status, "reason": "wiederholt"}),
    };
    let (code, body) = app
        .put_json_as_moderator(&format!("/api/v1/authors/{author}/status"), body)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

/// A decision row as the decision path writes it.
struct Decided {
    action: DecidedAction,
    ground: Option<Ground>,
    category: Option<Category>,
    automated: bool,
    decided_at: DateTime<Utc>,
    /// Minutes from the first flag, and from the first notice, to the decision.
    flag_minutes: Option<i64>,
    notice_minutes: Option<i64>,
}

async fn insert_decision(app: &TestApp, comment_id: i64, d: Decided) -> i64 {
    let before = |m: Option<i64>| m.map(|m| d.decided_at - Duration::minutes(m));
    decision::ActiveModel {
        comment_id: Set(comment_id),
        action: Set(d.action),
        ground: Set(d.ground),
        category: Set(d.category),
        explanation: Set(d.ground.map(|_| "Begründung".to_string())),
        legal_reference: Set(None),
        automated: Set(d.automated),
        moderator: Set((!d.automated).then(|| "anna".to_string())),
        via: Set((!d.automated).then_some(Via::Api)),
        decided_at: Set(d.decided_at),
        first_flag_at: Set(before(d.flag_minutes)),
        first_notice_at: Set(before(d.notice_minutes)),
        appeal_id: Set(None),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap()
    .id
}

async fn insert_appeal(
    app: &TestApp,
    decision_id: i64,
    status: AppealStatus,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
) {
    appeal::ActiveModel {
        comment_id: Set(1),
        decision_id: Set(decision_id),
        author_id: Set("u-1".into()),
        text: Set("Das war keine Beleidigung.".into()),
        status: Set(status),
        created_at: Set(created_at),
        decided_at: Set(decided_at),
        decided_by: Set(decided_at.map(|_| "bert".to_string())),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
}

const FROM: &str = "2026-03-01T00:00:00+01:00";
const TO: &str = "2026-04-01T00:00:00+02:00";

/// Flags, decisions, appeals and status changes inside the period, on its edges and outside.
async fn a_month_of_moderation(app: &TestApp) {
    let (from, to) = (at(FROM), at(TO));
    // The comments are written before the period, so nothing that posting does counts.
    app.clock.set(from - Duration::days(10));
    app.put_recent_article("a1", None).await;
    let mut comments = Vec::new();
    for i in 1..=6 {
        comments.push(
            app.comment("a1", &format!("u-{i}"), &format!("Kommentar {i}"))
                .await,
        );
    }
    set_status(app, "u-5", "suspended").await;

    // Flags: one a second before the period, one at its first instant, one at its end.
    app.clock.set(from - Duration::seconds(1));
    flag(app, &comments[0], "r-0", "spam").await;
    app.clock.set(from);
    flag(app, &comments[0], "r-1", "spam").await;
    app.clock.set(from + Duration::days(1));
    flag(app, &comments[1], "r-2", "abuse").await;
    flag(app, &comments[2], "r-3", "illegal").await;
    flag(app, &comments[3], "r-4", "illegal").await;
    app.clock.set(from + Duration::days(2));
    flag(app, &comments[4], "r-5", "off_topic").await;
    app.clock.set(from + Duration::days(3));
    set_status(app, "u-1", "suspended").await;
    set_status(app, "u-2", "banned").await;
    set_status(app, "u-3", "premod").await;

    // Decisions: hours from the first flag 1, 2, 4, 0.5, 10 and 3; from the first notice 1.5 and 4.
    let day = from + Duration::days(1) + Duration::hours(1);
    let manual = |action, ground, category, decided_at, flag_minutes, notice_minutes| Decided {
        action,
        ground,
        category,
        automated: false,
        decided_at,
        flag_minutes,
        notice_minutes,
    };
    use Category::*;
    use DecidedAction::*;
    let mut restricting = Vec::new();
    for d in [
        manual(Hide, Some(Ground::Terms), Some(Insult), day, Some(60), None),
        manual(
            Delete,
            Some(Ground::Illegal),
            Some(Hate),
            day,
            Some(120),
            Some(90),
        ),
        manual(
            Delete,
            Some(Ground::Illegal),
            Some(Threat),
            day,
            Some(240),
            Some(240),
        ),
        manual(Approve, None, None, day, Some(30), None),
        Decided {
            automated: true,
            ..manual(Hold, Some(Ground::Terms), Some(Spam), day, None, None)
        },
        manual(Hide, Some(Ground::Terms), Some(Spam), day, Some(600), None),
        // On the edges: the first instant counts, the end does not, nor a second before.
        manual(Approve, None, None, from, Some(180), None),
        manual(Hide, Some(Ground::Terms), Some(Insult), to, Some(5), None),
        manual(
            Delete,
            Some(Ground::Illegal),
            Some(Hate),
            from - Duration::seconds(1),
            Some(5),
            Some(5),
        ),
    ] {
        restricting.push(insert_decision(app, 1, d).await);
    }

    // Appeals: lodged or decided in the period, before it, at its end.
    let mid = from + Duration::days(5);
    let appeals = [
        (AppealStatus::Upheld, mid, Some(mid + Duration::days(1))),
        (AppealStatus::Reversed, mid, Some(mid + Duration::days(2))),
        (AppealStatus::Open, mid, None),
        (AppealStatus::Reversed, from - Duration::days(3), Some(mid)),
        (AppealStatus::Upheld, mid, Some(to)),
        (
            AppealStatus::Upheld,
            from - Duration::days(3),
            Some(from - Duration::days(1)),
        ),
        (AppealStatus::Open, to, None),
    ];
    for ((status, created, decided), decision_id) in appeals.into_iter().zip(&restricting) {
        insert_appeal(app, *decision_id, status, created, decided).await;
    }

    app.clock.set(to);
    flag(app, &comments[5], "r-6", "misinformation").await;
    set_status(app, "u-4", "banned").await;
}

fn expected_report() -> Value {
    json!({
        "period": {"from": "2026-02-28T23:00:00Z", "to": "2026-03-31T22:00:00Z"},
        "flags": {
            "total": 5,
            "notices": 2,
            "by_reason": {"spam": 1, "abuse": 1, "off_topic": 1, "illegal": 2, "misinformation": 0, "other": 0},
        },
        "decisions": {
            "total": 7,
            "automated": 1,
            "manual": 6,
            "by_action": {"approve": 2, "hide": 2, "delete": 2, "hold": 1},
            "by_ground": {"terms": 3, "illegal": 2},
            "by_category": {"insult": 1, "hate": 1, "spam": 2, "threat": 1, "privacy": 0,
                            "off_topic": 0, "misinformation": 0, "other": 0},
        },
        // Hours from the first flag: 0.5 1 2 3 4 10; from the first notice: 1.5 4.
        "time_to_decision": {
            "flagged": {"decisions": 6, "median_hours": 2.5, "p90_hours": 7.0},
            "illegal": {"decisions": 2, "median_hours": 2.75, "p90_hours": 3.75},
        },
        "appeals": {"received": 4, "upheld": 1, "reversed": 2, "open": 2},
        "authors": {"suspended": 1, "banned": 1},
    })
}

async fn the_report_counts_exactly_what_happened_in_the_period(db: Db) {
    let app = spawn_app(db).await;
    a_month_of_moderation(&app).await;
    let body = report(&app, FROM, TO).await;
    assert_eq!(body, expected_report(), "{body:#}");
    // The same period written in UTC.
    let body = report(&app, "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z").await;
    assert_eq!(body, expected_report());
    // A period that starts a second later loses the flag and the decision of its first instant.
    let body = report(&app, "2026-02-28T23:00:01Z", TO).await;
    assert_eq!(body["flags"]["by_reason"]["spam"], 0);
    assert_eq!(body["decisions"]["by_action"]["approve"], 1);
    assert_eq!(
        body["time_to_decision"]["flagged"],
        json!({"decisions": 5, "median_hours": 2.0, "p90_hours": 7.6})
    );
    // One that ends a second later gains the flag, the decision and the ban of its end.
    let body = report(&app, FROM, "2026-03-31T22:00:01Z").await;
    assert_eq!(body["flags"]["by_reason"]["misinformation"], 1);
    assert_eq!(body["decisions"]["total"], 8);
    assert_eq!(body["authors"], json!({"suspended": 1, "banned": 2}));
    assert_eq!(
        body["appeals"],
        json!({"received": 5, "upheld": 2, "reversed": 2, "open": 2})
    );
}

async fn the_report_as_csv_has_the_same_figures(db: Db) {
    let app = spawn_app(db).await;
    a_month_of_moderation(&app).await;
    let json = report(&app, FROM, TO).await;
    let (content_type, body) = csv(&app, FROM, TO).await;
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(lines[0], "section,key,value");
    assert_eq!(lines.last(), Some(&""), "the last row ends with CRLF");
    let rows = &lines[1..lines.len() - 1];
    for expected in [
        "period,from,2026-02-28T23:00:00Z",
        "flags,notices,2",
        "flags.by_reason,illegal,2",
        "decisions,automated,1",
        "decisions.by_category,privacy,0",
        "time_to_decision.flagged,median_hours,2.5",
        "time_to_decision.illegal,p90_hours,3.75",
        "appeals,open,2",
        "authors,banned,1",
    ] {
        assert!(rows.contains(&expected), "{expected} missing in\n{body}");
    }
    // Every row is a figure of the JSON, and every figure of the JSON has its row.
    let mut figures = 0;
    for row in rows {
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields.len(), 3, "{row}");
        let mut value = &json;
        for part in fields[0].split('.').chain([fields[1]]) {
            value = &value[part];
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Number(n) => n.as_f64().unwrap().to_string(),
            other => panic!("{row}: {other}"),
        };
        let csv_value = match fields[2].parse::<f64>() {
            Ok(n) => n.to_string(),
            Err(_) => fields[2].to_string(),
        };
        assert_eq!(csv_value, text, "{row}");
        figures += 1;
    }
    fn leaves(v: &Value) -> usize {
        match v {
            Value::Object(map) => map.values().map(leaves).sum(),
            _ => 1,
        }
    }
    assert_eq!(figures, leaves(&json));

    // JSON stays the default, and what ranks first in Accept wins.
    for (accept, csv) in [
        ("application/json", false),
        ("*/*", false),
        ("text/html", false),
        ("text/csv;q=0.5, application/json", false),
        ("application/json;q=0.5, text/csv", true),
        ("text/*", true),
    ] {
        let response = app
            .client
            .get(format!("{}{}", app.address, report_path(FROM, TO)))
            .bearer_auth(MODERATOR_TOKEN)
            .header(ACCEPT, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[CONTENT_TYPE].to_str().unwrap();
        assert_eq!(content_type.starts_with("text/csv"), csv, "{accept}");
        assert_eq!(response.headers()["vary"], "Accept");
    }
}

async fn an_empty_period_has_zeros_and_no_percentiles(db: Db) {
    let app = spawn_app(db).await;
    let body = report(&app, "2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z").await;
    assert_eq!(body["flags"]["total"], 0);
    assert_eq!(body["decisions"]["by_action"]["hold"], 0);
    assert_eq!(
        body["time_to_decision"]["illegal"],
        json!({"decisions": 0, "median_hours": null, "p90_hours": null})
    );
    assert_eq!(
        body["appeals"],
        json!({"received": 0, "upheld": 0, "reversed": 0, "open": 0})
    );
    let (_, body) = csv(&app, "2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z").await;
    assert!(
        body.contains("\r\ntime_to_decision.flagged,median_hours,\r\n"),
        "{body}"
    );
}

async fn bad_periods_are_refused_with_the_fields_named(db: Db) {
    let app = spawn_app(db).await;
    let base = "/api/v1/moderation/report";
    for (query, fields) in [
        ("", json!({"from": "is required", "to": "is required"})),
        ("?from=2026-01-01T00:00:00Z", json!({"to": "is required"})),
        ("?to=2026-01-01T00:00:00Z", json!({"from": "is required"})),
        (
            "?from=gestern&to=2026-01-01T00:00:00Z",
            json!({"from": null}),
        ),
        (
            "?from=2026-01-01&to=2026-02-01",
            json!({"from": null, "to": null}),
        ),
        (
            "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            json!({"to": "must be after `from`"}),
        ),
        (
            "?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            json!({"to": "must be after `from`"}),
        ),
        // 00:00 in Vienna is 23:00 UTC the day before: a UTC `to` at 22:30 is before it.
        (
            "?from=2026-01-01T00:00:00%2B01:00&to=2025-12-31T22:30:00Z",
            json!({"to": "must be after `from`"}),
        ),
        (
            "?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:01Z",
            json!({"to": "must be at most 2 years after `from`"}),
        ),
    ] {
        let (status, body) = app.get_as_moderator(&format!("{base}{query}")).await;
        assert_error(status, &body, 422, "validation_failed");
        let got = body["error"]["details"]["fields"].as_object().unwrap();
        let want = fields.as_object().unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{query}: {body}"
        );
        for (field, reason) in want {
            if !reason.is_null() {
                assert_eq!(&got[field], reason, "{query}");
            }
        }
    }
    // Exactly 2 years is fine, and so is the far future; a parameter twice is a bad request.
    report(&app, "2024-01-01T00:00:00Z", "2026-01-01T00:00:00Z").await;
    report(&app, "9999-06-01T00:00:00Z", "9999-12-01T00:00:00Z").await;
    let (status, body) = app
        .get_as_moderator(&format!(
            "{base}?from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z&to=2026-02-01T00:00:00Z"
        ))
        .await;
    assert_error(status, &body, 400, "bad_request");
}

async fn the_report_is_for_moderators_only(db: Db) {
    let app = spawn_app(db).await;
    let path = report_path(FROM, TO);
    let response = app
        .request(Method::GET, &path, Some(SERVICE_TOKEN), None)
        .await;
    let (status, body) = crate::helpers::json_of(response).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) =
        crate::helpers::json_of(app.request(Method::GET, &path, None, None).await).await;
    assert_error(status, &body, 401, "unauthorized");
    // The CSV asker gets the error as JSON too.
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .bearer_auth(SERVICE_TOKEN)
        .header(ACCEPT, "text/csv")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::json_of(response).await;
    assert_error(status, &body, 403, "forbidden");
}

/// `percentile_cont(p)` of `values`.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = p * (values.len() - 1) as f64;
    let lower = at.floor() as usize;
    let upper = (lower + 1).min(values.len() - 1);
    values[lower] + (at - lower as f64) * (values[upper] - values[lower])
}

async fn the_report_of_generated_data_agrees_with_the_rows(db: Db) {
    let app = spawn_app(db).await;
    let done = generate(
        &app.database,
        &[
            "--articles",
            "5",
            "--comments",
            "400",
            "--topics",
            "1",
            "--big",
            "0",
            "--flags",
            "600",
        ],
    )
    .await;
    // The generator wrote as of the system's time: the app's clock moves on to the next whole
    // second after it.
    let now = (Utc::now() + Duration::seconds(1)).trunc_subsecs(0);
    app.clock.set(now);
    let generated = (done.flags.unwrap(), done.decisions.unwrap());
    assert_eq!(generated.0, 600);
    let from = (now - Duration::days(366)).to_rfc3339();
    let to = (now + Duration::seconds(1)).to_rfc3339();
    let body = report(&app, &from, &to).await;
    assert_eq!(body["flags"]["total"], 600);
    assert!(body["flags"]["notices"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(body["decisions"]["total"], generated.1);
    assert!(
        body["decisions"]["automated"].as_u64().unwrap() > 0,
        "{body}"
    );
    assert!(body["appeals"]["received"].as_u64().unwrap() > 0, "{body}");
    let blocked = &body["authors"];
    assert!(blocked["suspended"].as_u64().unwrap() + blocked["banned"].as_u64().unwrap() > 0);

    // The percentiles are those of the rows, computed here.
    let rows = decision::Entity::find().all(&app.db).await.unwrap();
    let hours = |start: fn(&decision::Model) -> Option<DateTime<Utc>>| -> Vec<f64> {
        rows.iter()
            .filter_map(|d| start(d).map(|s| (d.decided_at - s).num_milliseconds() as f64 / 3.6e6))
            .collect()
    };
    for (name, mut values) in [
        ("flagged", hours(|d| d.first_flag_at)),
        ("illegal", hours(|d| d.first_notice_at)),
    ] {
        let figures = &body["time_to_decision"][name];
        assert_eq!(figures["decisions"], values.len(), "{name}");
        for (key, p) in [("median_hours", 0.5), ("p90_hours", 0.9)] {
            let want = percentile(&mut values, p);
            let got = figures[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 0.005 + 1e-9,
                "{name} {key}: {got} vs {want}"
            );
        }
    }
}
