//! Metrics and access logs.

use reqwest::{Method, StatusCode};

use crate::helpers::{Db, SERVICE_TOKEN, generate, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_template_and_report_the_outbox_and_pool() {
    let app = spawn_app(Db::Sqlite).await;
    app.put_recent_article("m1", None).await;
    let id = app.comment("m1", "u1", "Hallo").await;
    app.post_json(
        &format!("/api/v1/comments/{id}/flags"),
        serde_json::json!({"reporter": {"id": "u2"}, "reason": "spam"}),
    )
    .await;
    app.get("/api/v1/articles/m1/comments").await;
    let response = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for expected in [
        "http_requests_total{method=\"GET\",route=\"/api/v1/articles/{id}/comments\",status=\"200\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/articles/{id}/comments\"",
        "comments_posted_total",
        "flags_total{reason=\"spam\"}",
        "notifications{status=\"pending\"}",
        "notifications{status=\"sent\"}",
        "notifications{status=\"failed\"}",
        "db_pool_connections",
        "db_pool_idle_connections",
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
    assert!(
        !text.contains("m1/comments"),
        "routes are templates, not paths"
    );
    // The page was read through the page reader, which kept its connection.
    let idle: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("db_page_reader_idle_connections "))
        .unwrap_or_else(|| panic!("db_page_reader_idle_connections missing in\n{text}"))
        .parse()
        .unwrap();
    assert!(idle >= 1.0, "{idle}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app.request(Method::GET, "/healthz", None, None).await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(generated.len(), 16);
    let response = app
        .client
        .get(format!("{}/api/v1/articles/nope", app.address))
        .bearer_auth(SERVICE_TOKEN)
        .header("X-Request-Id", "edge-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["x-request-id"], "edge-4711");
    let response = app
        .request(
            Method::DELETE,
            "/api/v1/topics/ausland",
            Some(SERVICE_TOKEN),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

crate::on_both_databases!(the_generator_fills_a_database_whose_counts_add_up);

async fn the_generator_fills_a_database_whose_counts_add_up(db: Db) {
    let app = spawn_app(db).await;
    let done = generate(
        &app.database,
        &[
            "--articles",
            "20",
            "--comments",
            "1300",
            "--topics",
            "3",
            "--big",
            "1000",
            "--flags",
            "0",
        ],
    )
    .await;
    assert_eq!(done.articles, 21);
    assert_eq!(done.comments, 1300);
    let ids: Vec<String> = (0..20)
        .map(|i| format!("gen-{i}"))
        .chain(["gen-big".to_string()])
        .collect();
    let (status, body) = app
        .get(&format!("/api/v1/articles?ids={}", ids.join(",")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let total: i64 = body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["comment_count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 1300, "the triggers counted every generated comment");
    assert_eq!(body["articles"][20]["comment_count"], 1000);
    // Every generated comment has its author's record, and the records add up.
    let author_total: i64 = sea_orm::ConnectionTrait::query_one_raw(
        &app.db,
        sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT CAST(SUM(comments) AS BIGINT) AS n FROM authors",
        ),
    )
    .await
    .unwrap()
    .unwrap()
    .try_get("", "n")
    .unwrap();
    assert_eq!(author_total, 1300);
    assert_eq!(
        body["articles"][9]["discussion"]["status"], "closed",
        "every tenth is past the age limit"
    );
    let (_, page) = app.get("/api/v1/articles/gen-0/comments?limit=100").await;
    let comments = page["comments"].as_array().unwrap();
    let author_id = comments[0]["author"]["id"].as_str().unwrap();
    let (status, author) = app
        .get_as_moderator(&format!("/api/v1/authors/{author_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{author}");
    assert!(
        author["stats"]["comments"].as_i64().unwrap() >= 1,
        "{author}"
    );
    let replies: i64 = comments
        .iter()
        .map(|c| c["reply_count"].as_i64().unwrap())
        .sum();
    assert_eq!(
        comments.len() as i64 + replies,
        15,
        "top-level comments and their replies"
    );
    // A new comment goes on from the generated ids.
    app.comment("gen-0", "neu", "Nach dem Generator").await;
}

/// The value of an unlabelled or labelled sample in a Prometheus text page.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// A scrape costs the database nothing: the outbox gauges are what the deliver job counted after
/// its last run (a process of its own, so no other test's job sets them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_outbox_as_the_deliver_job_last_counted_it() {
    use sea_orm::ConnectionTrait;
    for db in [
        Some(Db::Sqlite),
        Db::postgres("metrics_show_the_outbox_as_the_deliver_job_last_counted_it"),
    ]
    .into_iter()
    .flatten()
    {
        let database = crate::helpers::TestDatabase::create(&db).await;
        let mail_dir = tempfile::tempdir().unwrap();
        let port = crate::helpers::free_port();
        let mut child = crate::helpers::binary_serving(&database, port, mail_dir.path())
            .env("RUST_LOG", "warn")
            .env("DELIVER_NOTIFICATIONS_SCHEDULE", "0 0 0 1 1 *")
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let client = crate::helpers::http_client();
        let base = format!("http://127.0.0.1:{port}");
        let scrape = || async {
            client
                .get(format!("{base}/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()
        };
        let text = crate::helpers::eventually("the first scrape", scrape).await;
        for status in ["pending", "sent", "failed"] {
            let name = format!("notifications{{status=\"{status}\"}}");
            assert_eq!(
                sample(&text, &name),
                Some(0.0),
                "{db:?}: counted at start-up\n{text}"
            );
        }
        let call = |method: reqwest::Method, path: &str, body: serde_json::Value| {
            client
                .request(method, format!("{base}{path}"))
                .bearer_auth(SERVICE_TOKEN)
                .json(&body)
                .send()
        };
        let published = chrono::Utc::now() - chrono::Duration::days(1);
        call(Method::PUT, "/api/v1/articles/m1",
            serde_json::json!({"title": "T", "url": "https://x.at/m1", "published_at": published.to_rfc3339()}))
            .await
            .unwrap();
        let posted: serde_json::Value = call(
            Method::POST,
            "/api/v1/articles/m1/comments",
            serde_json::json!({"author": {"id": "u1", "name": "U"}, "body": "Hallo"}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let id = posted["id"].as_str().unwrap();
        let flagged = call(
            Method::POST,
            &format!("/api/v1/comments/{id}/flags"),
            serde_json::json!({"reporter": {"id": "u2"}, "reason": "spam"}),
        )
        .await
        .unwrap();
        assert_eq!(flagged.status(), StatusCode::CREATED, "{db:?}");
        // The flag wakes the deliver job: it sends the mail (a file) and counts the outbox.
        crate::helpers::eventually("the sent notification in the metrics", || async {
            let text = scrape().await?;
            (sample(&text, "notifications{status=\"sent\"}") == Some(1.0)).then_some(())
        })
        .await;

        // A change the job has not counted yet does not show: the scrape read no table.
        let connection = sea_orm::Database::connect(database.url.as_str())
            .await
            .unwrap();
        connection
            .execute_unprepared("UPDATE notifications SET status = 'failed'")
            .await
            .unwrap();
        for _ in 0..3 {
            let text = scrape().await.unwrap();
            assert_eq!(
                sample(&text, "notifications{status=\"sent\"}"),
                Some(1.0),
                "{db:?}\n{text}"
            );
            assert_eq!(
                sample(&text, "notifications{status=\"failed\"}"),
                Some(0.0),
                "{db:?}\n{text}"
            );
        }
        child.kill().await.ok();
    }
}
