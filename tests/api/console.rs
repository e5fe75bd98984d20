//! The community team's console: sign-in, sessions and form tokens, the queue, decisions.

use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, TestApp, TestDatabase, app_with_events, queued_ids,
    spawn_app_with,
};
use crate::on_both_databases;

on_both_databases!(
    a_moderator_token_signs_in_and_other_tokens_are_refused,
    a_post_without_the_sessions_form_token_is_refused_and_changes_nothing,
    a_session_ends_after_eight_idle_hours_and_at_sign_out,
    the_queue_lists_held_and_flagged_comments_in_the_apis_order_with_tab_counts,
    a_hide_in_the_console_is_the_same_decision_as_through_the_api,
    a_bad_ground_shows_the_form_again_with_the_input_kept,
);

/// A client that shows redirects instead of following them.
pub(crate) fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The value of cookie `name` that a response sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_string();
            (value, v.to_string())
        })
}

/// The form token a page holds.
pub(crate) fn csrf_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf" value="([^"]+)""#).unwrap();
    re.captures(html).expect("a csrf field")[1].to_string()
}

/// A signed-in moderator: the session cookie and the form token.
pub(crate) struct Console {
    client: Client,
    address: String,
    cookie: String,
    pub(crate) csrf: String,
}

/// Posts the login form as a browser would (after loading it).
async fn sign_in(client: &Client, address: &str, name: &str, token: &str) -> reqwest::Response {
    let page = client
        .get(format!("{address}/console/login"))
        .send()
        .await
        .unwrap();
    let (login_cookie, _) = set_cookie(&page, "console_login").expect("login cookie");
    let html = page.text().await.unwrap();
    client
        .post(format!("{address}/console/login"))
        .header("Cookie", format!("console_login={login_cookie}"))
        .form(&[("name", name), ("token", token), ("csrf", &csrf_of(&html))])
        .send()
        .await
        .unwrap()
}

impl Console {
    pub(crate) async fn open(app: &TestApp, name: &str) -> Console {
        Console::open_at(&app.address, name).await
    }

    async fn open_at(address: &str, name: &str) -> Console {
        let client = client();
        let response = sign_in(&client, address, name, MODERATOR_TOKEN).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let (cookie, _) = set_cookie(&response, "console_session").expect("session cookie");
        let mut console = Console {
            client,
            address: address.to_string(),
            cookie,
            csrf: String::new(),
        };
        let (status, html) = console.get("/console/queue").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        console.csrf = csrf_of(&html);
        console
    }

    pub(crate) async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("Cookie", format!("console_session={}", self.cookie))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self.get_response(path).await;
        (response.status(), response.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("Cookie", format!("console_session={}", self.cookie))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A decision with the session's form token and `fields`.
    async fn decide(&self, comment: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(&format!("/console/comments/{comment}/decision"), &form)
            .await
    }
}

async fn flag(app: &TestApp, comment: &str, reporter: &str) {
    let (status, body) = app
        .post_json(
            &format!("/api/v1/comments/{comment}/flags"),
            json!({"reporter": {"id": reporter}, "reason": "abuse", "note": "beleidigend"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// An app where two flags hold a comment, with the article `a1`.
async fn app(db: Db) -> TestApp {
    let app = spawn_app_with(db, &[("FLAG_HIDE_THRESHOLD", "2".to_string())]).await;
    app.put_recent_article("a1", None).await;
    app
}

async fn flagged_comment(app: &TestApp, author: &str) -> String {
    let id = app.comment("a1", author, "Du bist ein Depp").await;
    flag(app, &id, "r1").await;
    id
}

async fn a_moderator_token_signs_in_and_other_tokens_are_refused(db: Db) {
    let app = app(db).await;
    let client = client();
    // Not signed in: every page leads to the login.
    let response = client
        .get(format!("{}/console/queue", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/login");

    let wrong = sign_in(&client, &app.address, "Anna", "not-a-token").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong, "console_session").is_none());
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains(r#"name="token""#) && html.contains("stimmen nicht"),
        "{html}"
    );

    let service = sign_in(&client, &app.address, "Anna", SERVICE_TOKEN).await;
    assert_eq!(service.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&service, "console_session").is_none());
    let html = service.text().await.unwrap();
    assert!(html.contains("kein Moderations-Token"), "{html}");
    assert!(!html.contains(SERVICE_TOKEN), "{html}");

    let ok = sign_in(&client, &app.address, "Anna", MODERATOR_TOKEN).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()[LOCATION], "/console/queue");
    let (_, header) = set_cookie(&ok, "console_session").expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(header.contains(part), "{header}");
    }
    assert!(!header.contains("Secure"), "plain http: {header}");

    let console = Console::open(&app, "Anna").await;
    let id = flagged_comment(&app, "u1").await;
    for path in [
        "/console/queue".to_string(),
        "/console/queue?tab=flagged".to_string(),
        format!("/console/comments/{id}"),
        "/console/log".to_string(),
        "/console/deliveries".to_string(),
    ] {
        let response = console.get_response(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .split(';')
                .next(),
            Some("default-src 'self'"),
            "{path}"
        );
        let html = response.text().await.unwrap();
        assert!(!html.contains(MODERATOR_TOKEN), "{path}: {html}");
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "{path}"
        );
    }
    for asset in ["console.css", "console.js"] {
        let response = console
            .get_response(&format!("/console/static/{asset}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
    }
}

async fn a_post_without_the_sessions_form_token_is_refused_and_changes_nothing(db: Db) {
    let app = app(db).await;
    let id = flagged_comment(&app, "u1").await;
    let console = Console::open(&app, "Anna").await;
    let other = Console::open(&app, "Berta").await;
    let path = format!("/console/comments/{id}/decision");
    let fields = [
        ("action", "delete"),
        ("ground", "terms"),
        ("category", "insult"),
    ];
    let without: Vec<(&str, &str)> = fields.to_vec();
    let mut wrong = vec![("csrf", "forged")];
    wrong.extend_from_slice(&fields);
    let mut others = vec![("csrf", other.csrf.as_str())];
    others.extend_from_slice(&fields);
    for form in [without, wrong, others] {
        let response = console.post(&path, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{form:?}");
    }
    let response = console.post("/console/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, comment) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(comment["status"], "visible", "{comment}");
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    assert_eq!(log["entries"], json!([]), "{log}");
    assert_eq!(
        console.get("/console/queue").await.0,
        StatusCode::OK,
        "still signed in"
    );
}

async fn a_session_ends_after_eight_idle_hours_and_at_sign_out(db: Db) {
    let app = app(db).await;
    let console = Console::open(&app, "Anna").await;
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(7 * 60 + 58));
        assert_eq!(console.get("/console/queue").await.0, StatusCode::OK);
    }
    app.clock.advance(chrono::Duration::hours(8));
    let response = console.get_response("/console/queue").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/login");

    let console = Console::open(&app, "Anna").await;
    let response = console
        .post("/console/logout", &[("csrf", &console.csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/login");
    // The old cookie no longer opens anything: the session is gone on the server.
    let response = console.get_response("/console/queue").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let rows = console_sessions(&app).await;
    assert_eq!(rows, 0, "expired and ended sessions are deleted");
}

async fn console_sessions(app: &TestApp) -> i64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    comment_service::entity::console_session::Entity::find()
        .count(&app.db)
        .await
        .unwrap() as i64
}

/// The `data-comment-id`s of a page, in order.
fn item_ids(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"<li class="item" data-comment-id="(\d+)""#).unwrap();
    re.captures_iter(html).map(|c| c[1].to_string()).collect()
}

async fn the_queue_lists_held_and_flagged_comments_in_the_apis_order_with_tab_counts(db: Db) {
    let app = app(db).await;
    let mut held = Vec::new();
    for i in 0..20 {
        let id = flagged_comment(&app, &format!("u{i}")).await;
        if i % 2 == 0 {
            flag(&app, &id, "r2").await;
            held.push(id);
        }
    }
    let console = Console::open(&app, "Anna").await;
    // The first tab with items: notices are empty, so the held ones.
    let (status, html) = console.get("/console/queue").await;
    assert_eq!(status, StatusCode::OK);
    let (_, api) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=held")
        .await;
    assert_eq!(item_ids(&html), queued_ids(&api));
    assert_eq!(item_ids(&html).len(), 10);
    let (_, html) = console.get("/console/queue?tab=flagged").await;
    let (_, api) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=flagged")
        .await;
    assert_eq!(item_ids(&html), queued_ids(&api));
    assert_eq!(item_ids(&html).len(), 20);
    for (tab, n) in [
        ("notices", 0),
        ("held", 10),
        ("flagged", 20),
        ("appeals", 0),
    ] {
        assert!(
            html.contains(&format!(
                r#"<span class="count" data-count="{tab}">{n}</span>"#
            )),
            "{tab}: {html}"
        );
    }
    assert!(html.contains("Beleidigung"), "the flags' reasons: {html}");
    assert!(html.contains("beleidigend"), "the reporters' notes");
    let (status, counts) = console.get("/console/counts").await;
    assert_eq!(status, StatusCode::OK);
    let counts: Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(
        counts,
        json!({"notices": 0, "held": 10, "flagged": 20, "appeals": 0})
    );
}

async fn a_hide_in_the_console_is_the_same_decision_as_through_the_api(db: Db) {
    let app = app_with_events(db).await;
    app.put_recent_article("a1", None).await;
    let by_api = flagged_comment(&app, "u1").await;
    let by_console = flagged_comment(&app, "u2").await;
    let statement = json!({"action": "hide", "ground": "terms", "category": "insult",
                           "explanation": "Beschimpft andere."});
    app.decide_ok(&by_api, statement).await;
    let console = Console::open(&app, "Berta").await;
    let response = console
        .decide(
            &by_console,
            &[
                ("action", "hide"),
                ("ground", "terms"),
                ("category", "insult"),
                ("legal_reference", ""),
                ("explanation", "Beschimpft andere."),
                ("tab", "flagged"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/queue?tab=flagged");

    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let entries = log["entries"].as_array().unwrap();
    let entry = |id: &str| {
        entries
            .iter()
            .find(|e| e["comment_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no entry for {id}: {log}"))
    };
    let (api_entry, console_entry) = (entry(&by_api), entry(&by_console));
    assert_eq!(console_entry["via"], "console");
    assert_eq!(console_entry["moderator"], "Berta");
    assert_eq!(api_entry["via"], "api");
    for field in ["action", "article_id", "note"] {
        assert_eq!(api_entry[field], console_entry[field], "{field}");
    }
    for id in [&by_api, &by_console] {
        let (_, c) = app
            .get_as_moderator(&format!("/api/v1/comments/{id}"))
            .await;
        assert_eq!(c["status"], "hidden", "{c}");
    }
    let (_, events) = app.get_as_moderator("/api/v1/events?limit=100").await;
    let types_of = |id: &str| {
        let mut types: Vec<String> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["comment_id"] == id)
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        types.sort();
        types
    };
    assert_eq!(types_of(&by_api), types_of(&by_console));
    assert!(types_of(&by_console).contains(&"comment.hidden".to_string()));
    // The page of the comment shows the decision with who made it.
    let (_, html) = console
        .get(&format!("/console/comments/{by_console}"))
        .await;
    assert!(html.contains("Berta (console)"), "{html}");
}

async fn a_bad_ground_shows_the_form_again_with_the_input_kept(db: Db) {
    let app = app(db).await;
    let id = flagged_comment(&app, "u1").await;
    let console = Console::open(&app, "Anna").await;
    let response = console
        .decide(
            &id,
            &[
                ("action", "hide"),
                ("ground", "gefühlt"),
                ("category", "hate"),
                ("legal_reference", "§ 1 <b>X</b>"),
                ("explanation", "Meine Erklärung <script>"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Grundlage"), "{html}");
    assert!(html.contains("Meine Erklärung &lt;script&gt;"), "{html}");
    assert!(html.contains("§ 1 &lt;b&gt;X&lt;/b&gt;"), "{html}");
    assert!(html.contains(r#"<option value="hate" selected>"#), "{html}");
    let (_, comment) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(comment["status"], "visible");
}

/// Behind HTTPS the session cookie is `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_when_the_service_is_reached_over_https() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[(
            "PUBLIC_BASE_URL",
            "https://kommentare.example.at".to_string(),
        )],
    )
    .await;
    let response = sign_in(&client(), &app.address, "Anna", MODERATOR_TOKEN).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, header) = set_cookie(&response, "console_session").expect("session cookie");
    assert!(header.contains("Secure"), "{header}");
}

/// The token is read from the form's body only: no page and no log line carries it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_moderator_token_appears_in_no_page_and_no_log_line() {
    let database = TestDatabase::create(&Db::Sqlite).await;
    let mail_dir = tempfile::tempdir().unwrap();
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("server.log");
    let port = crate::helpers::free_port();
    let token = "console-secret-moderator-token";
    let mut child = crate::helpers::binary_serving(&database, port, mail_dir.path())
        .env(
            "API_TOKENS",
            format!("web:service:{SERVICE_TOKEN},anna:moderator:{token}"),
        )
        .env("RUST_LOG", "debug")
        .stdout(std::fs::File::create(&log_path).unwrap())
        .stderr(std::fs::File::create(log_dir.path().join("stderr.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (_, address) = crate::helpers::client_when_healthy(port).await;
    let client = client();
    let wrong = sign_in(&client, &address, "Anna", &format!("{token}x")).await;
    let mut pages = vec![wrong.text().await.unwrap()];
    let response = sign_in(&client, &address, "Anna", token).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (cookie, _) = set_cookie(&response, "console_session").unwrap();
    for path in [
        "/console/queue",
        "/console/log",
        "/console/deliveries",
        "/console/login",
    ] {
        let html = client
            .get(format!("{address}{path}"))
            .header("Cookie", format!("console_session={cookie}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        pages.push(html);
    }
    // The process writes its log as it serves: a last request, and its line, mark the end.
    client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    crate::helpers::eventually("the last request's log line", || async {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        log.contains("route=\"/readyz\"").then_some(())
    })
    .await;
    child.kill().await.ok();
    for html in &pages {
        assert!(!html.contains(token), "{html}");
    }
    let stderr = std::fs::read_to_string(log_dir.path().join("stderr.log")).unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap() + stderr.as_str();
    assert!(
        log.contains("console sign-in"),
        "the log is captured: {log}"
    );
    assert!(!log.contains(token), "{log}");
}
