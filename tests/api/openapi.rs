//! `GET /openapi.json` and `GET /docs`: served without a token, and the document covers exactly
//! the routes the server registers.
//!
//! The registered routes are read from the source (`src/api/*.rs`), so a new route that is not
//! documented fails here without anyone having to update a list in this test.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Db, TestApp, spawn_app};

const HTTP_METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

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

// ---- A small scanner for the route registrations in src/api ----

/// The source with comments removed and the contents of string literals kept, so parentheses
/// can be counted outside strings.
struct Source {
    text: String,
}

impl Source {
    fn read(path: &Path) -> Source {
        let raw = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let text = raw
            .lines()
            .map(|line| match line.trim_start().starts_with("//") {
                true => "",
                false => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        Source { text }
    }

    /// The body of `fn <name>(...) { ... }`, without the braces.
    fn fn_body(&self, name: &str) -> Option<&str> {
        let start = self.text.find(&format!("fn {name}("))?;
        let open = start + self.text[start..].find('{')?;
        let close = matching(&self.text, open, '{', '}')?;
        Some(&self.text[open + 1..close])
    }
}

/// The index of the bracket that closes the one at `open`, skipping string literals.
fn matching(text: &str, open: usize, left: char, right: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            c if c == left => depth += 1,
            c if c == right => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The string literal that starts at `text[at..]` (after optional whitespace).
fn string_literal_at(text: &str, at: usize) -> Option<(String, usize)> {
    let rest = &text[at..];
    let trimmed = rest.trim_start();
    let offset = at + (rest.len() - trimmed.len());
    let body = trimmed.strip_prefix('"')?;
    let end = body.find('"')?;
    Some((body[..end].to_string(), offset + 1 + end + 1))
}

/// The HTTP methods named by `web::get()`, `web::post()`, ... in `text`, in order.
fn methods_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("web::") {
        let start = at + i + "web::".len();
        let name: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if HTTP_METHODS.contains(&name.as_str()) && text[start + name.len()..].starts_with("()") {
            found.push(name);
        }
        at = start;
    }
    found
}

/// The routes a `configure` body registers, relative to its scope:
/// `web::resource("/p").route(web::get()...)...` and `.route("/p", web::get()...)`.
fn routes_in_configure(body: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();

    let mut at = 0;
    while let Some(i) = body[at..].find("web::resource(") {
        let open = at + i + "web::resource".len();
        let (path, after_path) =
            string_literal_at(body, open + 1).expect("web::resource takes a string literal");
        // The resource expression ends where the call that contains it (`.service(`) closes;
        // its `.route(web::<method>()...)` calls are all before that.
        let service_open = body[..open]
            .rfind('(')
            .expect("web::resource inside a call");
        let service_close = matching(body, service_open, '(', ')').expect("balanced parentheses");
        let methods = methods_in(&body[after_path..service_close]);
        assert!(
            !methods.is_empty(),
            "the scanner found no method for resource {path}"
        );
        for method in methods {
            routes.push((method, path.clone()));
        }
        at = after_path;
    }

    let mut at = 0;
    while let Some(i) = body[at..].find(".route(") {
        let open = at + i + ".route".len();
        at = open + 1;
        // `.route(web::get()...)` inside a resource has no path of its own.
        let Some((path, after_path)) = string_literal_at(body, open + 1) else {
            continue;
        };
        let close = matching(body, open, '(', ')').expect("balanced parentheses");
        let methods = methods_in(&body[after_path..close]);
        assert_eq!(
            methods.len(),
            1,
            "expected one method for .route({path:?}, ...), found {methods:?}"
        );
        routes.push((methods[0].clone(), path));
    }
    routes
}

/// `(scope prefix, module)` for every `.configure(<module>::configure)` in `api::configure`,
/// with the prefix of the `web::scope("...")` it is inside, if any.
fn configured_modules(api_mod: &Source) -> Vec<(String, String)> {
    let body = api_mod
        .fn_body("configure")
        .expect("src/api/mod.rs has fn configure");
    let mut scopes: Vec<(usize, usize, String)> = Vec::new();
    let mut at = 0;
    while let Some(i) = body[at..].find("web::scope(") {
        let open = at + i + "web::scope".len();
        let (prefix, _) = string_literal_at(body, open + 1).expect("web::scope takes a literal");
        let outer_open = body[..open].rfind('(').expect("web::scope inside a call");
        let outer_close = matching(body, outer_open, '(', ')').expect("balanced parentheses");
        scopes.push((open, outer_close, prefix));
        at = open + 1;
    }
    let mut modules = Vec::new();
    let mut at = 0;
    while let Some(i) = body[at..].find(".configure(") {
        let start = at + i + ".configure(".len();
        let end = start + body[start..].find(')').expect("closing parenthesis");
        let target = body[start..end].trim();
        let module = target
            .strip_suffix("::configure")
            .unwrap_or_else(|| panic!("unexpected .configure({target})"));
        // Modules outside src/api (the console's HTML pages) are not part of the document.
        if module.starts_with("crate::") {
            at = end;
            continue;
        }
        let prefix = scopes
            .iter()
            .filter(|(from, to, _)| (*from..*to).contains(&start))
            .map(|(_, _, prefix)| prefix.as_str())
            .collect::<String>();
        modules.push((prefix, module.to_string()));
        at = end;
    }
    modules
}

/// Every (method, full path) the server registers, read from `src/api`.
fn registered_routes() -> BTreeSet<(String, String)> {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let modules = configured_modules(&Source::read(&api.join("mod.rs")));
    assert!(
        modules.iter().any(|(prefix, _)| prefix == "/api/v1"),
        "the scanner found no module under /api/v1: {modules:?}"
    );
    let mut routes = BTreeSet::new();
    for (prefix, module) in modules {
        let source = Source::read(&api.join(format!("{module}.rs")));
        let body = source
            .fn_body("configure")
            .unwrap_or_else(|| panic!("src/api/{module}.rs has no fn configure"));
        let found = routes_in_configure(body);
        assert!(
            !found.is_empty(),
            "the scanner found no route in src/api/{module}.rs"
        );
        for (method, path) in found {
            routes.insert((method, format!("{prefix}{path}")));
        }
    }
    routes
}

#[test]
fn the_route_scanner_reads_both_registration_styles() {
    let body = r#"
        cfg.route("/a", web::get().to(a))
            .service(
                web::resource("/b/{id}")
                    .route(web::put().to(put_b))
                    .route(web::delete().to(delete_b)),
            )
            .route("/c/{id}/d", web::post().to(c));
    "#;
    let mut routes = routes_in_configure(body);
    routes.sort();
    let expected: Vec<(String, String)> = [
        ("delete", "/b/{id}"),
        ("get", "/a"),
        ("post", "/c/{id}/d"),
        ("put", "/b/{id}"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_string(), p.to_string()))
    .collect();
    assert_eq!(routes, expected);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_the_server_registers() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let documented = documented_operations(&doc);
    let registered = registered_routes();
    assert!(
        registered.len() >= 20,
        "the scanner found only {} routes: {registered:?}",
        registered.len()
    );

    let missing: Vec<_> = registered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "registered but not in the document: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_no_route_the_server_does_not_register() {
    let app = spawn_app(Db::Sqlite).await;
    let doc = fetch_document(&app).await;
    let extra: Vec<_> = documented_operations(&doc)
        .difference(&registered_routes())
        .cloned()
        .collect();
    assert!(
        extra.is_empty(),
        "in the document but not registered: {extra:?}"
    );
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
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
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
