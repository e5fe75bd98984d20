//! `GET /openapi.json` and `GET /docs`: served without a token, and the document covers exactly
//! the routes the server registers.
//!
//! The routes are registered from their handlers' documentation (`api::routes`); these tests
//! request every documented operation and method to check that the router agrees.

use std::collections::BTreeSet;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Db, TestApp, spawn_app};

const HTTP_METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "options"];

/// Fetches the document without a token.
async fn fetch_document(app: &TestApp) -> Value {
    let text = fetch_without_token(app, "/openapi.json", "application/json").await;
    serde_json::from_str(&text).expect("the document is JSON")
}

/// GETs a page without a token, checks it is 200 with the content type, and returns its body.
async fn fetch_without_token(app: &TestApp, path: &str, content_type: &str) -> String {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let got = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(got.starts_with(content_type), "content type {got}");
    response.text().await.expect("body")
}

/// The (method, path) pairs of the document's operations.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for method in item.keys().filter(|k| HTTP_METHODS.contains(&k.as_str())) {
            operations.insert((method.clone(), path.clone()));
        }
    }
    operations
}

/// `path` with every `{parameter}` replaced by a value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x1" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a response is the router's own answer to a request no route takes: the default
/// service's `404` naming the request, or a `405` (a registered path without that method).
async fn unrouted(response: reqwest::Response) -> Option<String> {
    let status = response.status();
    let body = response.text().await.expect("body");
    let no_route = status == StatusCode::NOT_FOUND && body.contains("no route for");
    (no_route || status == StatusCode::METHOD_NOT_ALLOWED).then(|| format!("{status} {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_served_without_a_token_and_declares_bearer_auth() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;

    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3."), "openapi {version}");
    assert_eq!(doc["info"]["title"], "comment-service");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http", "{bearer}");
    assert_eq!(bearer["scheme"], "bearer", "{bearer}");
}

/// Every documented operation reaches a handler: requested (without a token, so nothing changes),
/// none gets the router's answer for a route it does not have. The other direction holds by
/// construction (routes are registered from their handlers' documentation, `api::routes`) and
/// `an_undeclared_method_answers_405_with_allow_on_every_path` checks each documented path's
/// methods against the ones the router serves there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_a_registered_route() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let documented = documented_operations(&doc);
    assert!(
        documented.len() >= 30,
        "the document has only {} operations: {documented:?}",
        documented.len()
    );
    let mut unregistered = Vec::new();
    for (method, path) in &documented {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .request(method.clone(), &concrete(path), None, None)
            .await;
        if let Some(answer) = unrouted(response).await {
            unregistered.push(format!("{method} {path}: {answer}"));
        }
    }
    assert!(
        unregistered.is_empty(),
        "in the document but not registered: {unregistered:?}"
    );
}

/// The check above tells a missing route from one that is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_is_not_registered_is_told_apart() {
    let app = spawn_app(Db::Sqlite).await;
    for (method, path) in [
        (Method::GET, "/api/v1/nothing-here"),
        (Method::PUT, "/healthz"),
    ] {
        let response = app.request(method.clone(), path, None, None).await;
        assert!(unrouted(response).await.is_some(), "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_require_the_bearer_token_and_the_others_do_not() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    for (method, path) in documented_operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let security = &operation["security"];
        if path.starts_with("/api/v1/") {
            assert_eq!(
                security,
                &serde_json::json!([{"bearer": []}]),
                "{method} {path} needs the bearer scheme"
            );
        } else {
            assert!(
                security.is_null() || security == &serde_json::json!([]),
                "{method} {path} needs no token but says {security}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_response_of_the_api_has_the_error_shape() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let error_ref = "#/components/schemas/ErrorBody";
    for (method, path) in documented_operations(&doc) {
        let responses = doc["paths"][&path][&method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} has no responses"));
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (status, response) in responses {
            let Some(json) = response["content"].get("application/json") else {
                continue;
            };
            // `/readyz` answers 503 with its own body; everything under /api/v1 uses ErrorBody.
            if path.starts_with("/api/v1/") && (status.starts_with('4') || status.starts_with('5'))
            {
                assert_eq!(
                    json["schema"]["$ref"], error_ref,
                    "{method} {path} {status} should use ErrorBody"
                );
            }
        }
        if path.starts_with("/api/v1/") {
            for status in ["401", "500"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
        }
    }
    let codes: BTreeSet<&str> =
        doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["enum"]
            .as_array()
            .expect("the error codes are listed")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    for code in [
        "bad_request",
        "unauthorized",
        "forbidden",
        "discussion_closed",
        "not_found",
        "idempotency_conflict",
        "state_conflict",
        "payload_too_large",
        "validation_failed",
        "rate_limited",
        "internal",
    ] {
        assert!(codes.contains(code), "the error codes lack {code}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_html_and_needs_no_token() {
    let app = spawn_app(Db::Sqlite).await;
    let html = fetch_without_token(&app, "/docs", "text/html").await;
    assert!(
        html.contains(r#"id="swagger-ui""#),
        "a Swagger UI page: {html}"
    );
    // Swagger UI reads the document from this service.
    let initializer = app
        .request(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert_eq!(initializer.status(), StatusCode::OK);
    assert!(
        initializer
            .text()
            .await
            .unwrap()
            .contains(r#""url": "openapi.json""#)
    );
}

/// The `src` and `href` values of a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attribute) {
            rest = &rest[i + attribute.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            found.push(rest[..end].to_string());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_load_nothing_from_another_origin() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app.request(Method::GET, "/docs", None, None).await;
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("http") && !csp.contains('*'),
        "only this origin: {csp}"
    );
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script: {html}");
    let referenced = references(&html);
    assert!(referenced.len() >= 4, "{referenced:?}");
    for reference in referenced {
        assert!(
            reference.starts_with("docs/"),
            "{reference} is not served by this binary"
        );
        let file = app
            .request(Method::GET, &format!("/{reference}"), None, None)
            .await;
        assert_eq!(file.status(), StatusCode::OK, "{reference}");
        let content_type = file.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
        let expected = match reference.rsplit('.').next() {
            Some("js") => "javascript",
            Some("css") => "text/css",
            _ => "image/png",
        };
        assert!(
            content_type.contains(expected),
            "{reference}: {content_type}"
        );
        assert!(!file.bytes().await.unwrap().is_empty(), "{reference}");
    }
    let (status, body) = crate::helpers::json_of(
        app.request(Method::GET, "/docs/no-such-file.js", None, None)
            .await,
    )
    .await;
    crate::helpers::assert_error(status, &body, 404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app(Db::Sqlite).await;
    app.put_recent_article("a1", None).await;
    let status_with = |authorization: String| {
        let request = app
            .client
            .get(format!("{}/api/v1/articles/a1", app.address))
            .header("Authorization", authorization);
        async move { request.send().await.expect("request").status() }
    };
    let token = crate::helpers::SERVICE_TOKEN;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let status = status_with(format!("{scheme} {token}")).await;
        assert_eq!(status, StatusCode::OK, "{scheme}");
    }
    for value in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "BEARER wrong-token".to_string(),
    ] {
        let status = status_with(value.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{value}");
    }
}

/// A documented path answers every method it does not declare with 405 and an `Allow` header
/// naming the ones it does, whether it declares one method or several.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undeclared_method_answers_405_with_allow_on_every_path() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut one_method_paths = 0;
    for (path, item) in paths {
        let declared: BTreeSet<String> = item
            .as_object()
            .expect("a path item")
            .keys()
            .filter(|k| HTTP_METHODS.contains(&k.as_str()))
            .map(|m| m.to_uppercase())
            .collect();
        if declared.len() == 1 {
            one_method_paths += 1;
        }
        let concrete = concrete(path);
        for method in HTTP_METHODS.map(str::to_uppercase) {
            if declared.contains(&method) {
                continue;
            }
            let response = app
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    &concrete,
                    None,
                    None,
                )
                .await;
            assert_eq!(
                response.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {concrete}"
            );
            let allow: BTreeSet<String> = response
                .headers()
                .get("allow")
                .unwrap_or_else(|| panic!("{method} {concrete}: no Allow header"))
                .to_str()
                .unwrap()
                .split(',')
                .map(|m| m.trim().to_string())
                .collect();
            assert_eq!(allow, declared, "{method} {concrete}");
            // The action pages are HTML; everything else answers in the error shape.
            if !concrete.starts_with("/moderation/actions/") {
                let body: Value = response.json().await.expect("a JSON error");
                assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
            }
        }
    }
    assert!(
        one_method_paths >= 10,
        "only {one_method_paths} one-method paths"
    );
}

/// The document's enums are the wire names the service speaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_enums_are_the_wire_names() {
    use comment_service::domain::states::*;
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let schemas = &doc["components"]["schemas"];
    macro_rules! wire_names {
        ($($t:ident),+) => {
            vec![$((stringify!($t), $t::ALL.iter().map(|v| Value::from(v.as_str())).collect::<Vec<_>>())),+]
        };
    }
    let cases: Vec<(&str, Vec<Value>)> = wire_names!(
        DiscussionStatus,
        ClosedReason,
        ShownStatus,
        FlagReason,
        CommentOrder,
        NotificationStatus
    );
    for (name, expected) in cases {
        assert_eq!(
            schemas[name]["enum"],
            Value::Array(expected),
            "{name}: {}",
            schemas[name]
        );
    }
}

/// What the service checks is in the document: patterns and lengths, and the 400 of a
/// repeated query parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_states_the_input_rules_the_service_enforces() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let article_id = &doc["paths"]["/api/v1/articles/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(article_id["pattern"], "^[A-Za-z0-9._:-]{1,128}$");
    assert_eq!(article_id["maxLength"], 128);
    let slug = &doc["paths"]["/api/v1/topics/{slug}"]["get"]["parameters"][0]["schema"];
    assert_eq!(slug["pattern"], "^[a-z0-9][a-z0-9-]{0,63}$");
    let schemas = &doc["components"]["schemas"];
    for (schema, field) in [
        ("AuthorBody", "id"),
        ("AuthorBody", "name"),
        ("NewCommentBody", "body"),
        ("EditBody", "body"),
        ("EditBody", "author_id"),
        ("Reporter", "id"),
        ("FlagBody", "note"),
        ("DecisionBody", "note"),
        ("TopicBody", "name"),
        ("TopicBody", "overview_url"),
        ("ArticleBody", "title"),
        ("ArticleBody", "url"),
        ("ArticleBody", "topic"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert!(
            property["pattern"].is_string(),
            "{schema}.{field} has no pattern: {property}"
        );
    }
    // A comment body of 2000 characters fits the pattern, one of 2001 does not.
    let body = schemas["NewCommentBody"]["properties"]["body"]["pattern"]
        .as_str()
        .unwrap();
    let body = regex::Regex::new(body).unwrap();
    assert!(body.is_match(&"x".repeat(2000)));
    assert!(!body.is_match(&"x".repeat(2001)));
    assert!(body.is_match(" Zwei\r\nZeilen "));

    // A repeated `?limit=` is a 400, and every list says so.
    let (status, _) = app
        .call(
            reqwest::Method::GET,
            "/api/v1/topics/ausland?limit=1&limit=2",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for path in [
        "/api/v1/articles",
        "/api/v1/topics/{slug}",
        "/api/v1/articles/{id}/comments",
        "/api/v1/comments/{id}/replies",
        "/api/v1/moderation/queue",
        "/api/v1/moderation/log",
        "/api/v1/moderation/notifications",
    ] {
        assert!(
            doc["paths"][path]["get"]["responses"]["400"].is_object(),
            "GET {path} does not document 400"
        );
    }
}
