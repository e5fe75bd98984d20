//! Hostile input: what any client can send must not grow the service's memory, fill its error
//! log, or be refused where the contract accepts it.

use std::io::{Read, Write};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Db, TestDatabase, eventually, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_and_paths_add_no_metric_labels() {
    let app = spawn_app(Db::Sqlite).await;
    for i in 0..30 {
        let method = Method::from_bytes(format!("INVENTED{i}X").as_bytes()).unwrap();
        let response = app
            .request(method, &format!("/made-up-path-{i}/x"), None, None)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let method = Method::from_bytes(format!("BOGUS{i}Y").as_bytes()).unwrap();
        let response = app.request(method, "/healthz", None, None).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
    let text = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    for invented in ["INVENTED", "BOGUS", "made-up-path"] {
        assert!(
            !text.contains(invented),
            "{invented} made it into the labels:\n{text}"
        );
    }
    for expected in [
        r#"http_requests_total{method="other",route="unmatched",status="404"}"#,
        r#"http_requests_total{method="other",route="/healthz",status="405"}"#,
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
}

/// The moderator's note takes what a reader's note takes: several lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderation_note_may_have_several_lines_like_a_flag_note() {
    let app = spawn_app(Db::Sqlite).await;
    app.put_recent_article("h1", None).await;
    let id = app.comment("h1", "u1", "Hallo").await;
    let (status, flag) = app
        .post_json(
            &format!("/api/v1/comments/{id}/flags"),
            json!({"reporter": {"id": "u2"}, "reason": "other", "note": "Zeile 1\nZeile 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");
    let (status, decided) = app
        .decide(
            &id,
            json!({"action": "hide", "note": "Beleidigung.\r\nSiehe Meldung."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(
        log["entries"][0]["note"], "Beleidigung.\nSiehe Meldung.",
        "{log}"
    );
    let (status, refused) = app
        .decide(&id, json!({"action": "hide", "note": "mit \u{7} Glocke"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
}

/// A request the server cannot even parse is the client's mistake: answered 400 and logged as a
/// warning, never as an ERROR of the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_header_is_logged_as_a_warning_not_an_error() {
    let database = TestDatabase::create(&Db::Sqlite).await;
    let mail_dir = tempfile::tempdir().unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let port = crate::helpers::free_port();
    let mut child = crate::helpers::binary_serving(&database, port, mail_dir.path())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(std::fs::File::create(&log_path).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    crate::helpers::client_when_healthy(port).await;

    // Each question sends one malformed request (actix-http may skip its log line when the
    // client is already gone), then reads the log.
    let log = eventually("the warning in the log", || async {
        let answer = tokio::task::spawn_blocking(move || malformed_request(port))
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        log.contains("could not be read").then_some(log)
    })
    .await;
    child.kill().await.ok();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let warning = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap_or("")
                .contains("could not be read")
        })
        .expect("the warning");
    assert_eq!(warning["level"], "WARN", "{warning}");
    let errors: Vec<_> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "errors logged: {errors:?}");
}

/// Sends a request with a header line without a colon and returns the answer.
fn malformed_request(port: u16) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nA header without a colon\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok();
    answer
}
