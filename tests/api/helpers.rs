//! `spawn_app()`: the real server on a random port with its own database and SMTP server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use comment_service::clock::Clock;
use comment_service::config::Settings;
use comment_service::startup::Application;
use comment_service::state::AppState;
use reqwest::{Client, Method, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::smtp_server::TestSmtpServer;

pub const SERVICE_TOKEN: &str = "test-service-token";
pub const MODERATOR_TOKEN: &str = "test-moderator-token";

/// Which database a test runs against.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    /// A base URL from `TEST_DATABASE_URL`; each test gets a fresh schema in it.
    Postgres(String),
}

impl Db {
    /// PostgreSQL when `TEST_DATABASE_URL` is set. When it is not: on CI (`CI` set and not
    /// empty) the test fails, so a CI without PostgreSQL cannot pass; elsewhere it says the
    /// test was skipped.
    pub fn postgres(test: &str) -> Option<Db> {
        let url = non_empty_var("TEST_DATABASE_URL");
        let ci = non_empty_var("CI");
        match (url, ci) {
            (Some(url), _) => Some(Db::Postgres(url)),
            (None, Some(ci)) => panic!(
                "{test} needs PostgreSQL, and CI={ci:?} is set but TEST_DATABASE_URL is not: \
                 a CI run must test PostgreSQL too (set TEST_DATABASE_URL, e.g. \
                 postgres://postgres@127.0.0.1:5432/comment_service_test)"
            ),
            (None, None) => {
                println!("skipped {test} on PostgreSQL: TEST_DATABASE_URL is not set");
                None
            }
        }
    }
}

/// The value of an environment variable that is set and not empty.
fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t{}_{}_{}", std::process::id(), n, nanos)
}

static LEFTOVERS_DROPPED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Drops the schemas earlier test processes left behind (their names carry the process id, see
/// `unique_name`; a process still running keeps its own). Without this the test database grows
/// by a schema per test and run, and PostgreSQL's checkpoints, which sync every file, slow down.
async fn drop_leftover_schemas(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname ~ '^t[0-9]+_[0-9]+_[0-9]+$'",
        ))
        .await
        .expect("list test schemas");
    for row in rows {
        let name: String = row.try_get("", "nspname").expect("schema name");
        let pid = name[1..].split('_').next().unwrap_or("");
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        admin
            .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .await
            .ok();
    }
}

/// A database of the test's own (a temporary SQLite file, or a new PostgreSQL schema) and the
/// clock of the test's world: every app started on it (a restart, a second replica) reads that
/// clock, and the test moves it instead of waiting.
pub struct TestDatabase {
    pub url: String,
    pub clock: Clock,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Another handle on the same database (for a second instance); the first keeps it alive.
    pub fn share(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            clock: self.clock.clone(),
            _dir: None,
        }
    }

    pub async fn create(db: &Db) -> TestDatabase {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("comments.db").display()
                );
                TestDatabase {
                    url,
                    clock: world_clock(),
                    _dir: Some(dir),
                }
            }
            Db::Postgres(base) => {
                let schema = unique_name();
                let admin = Database::connect(base.as_str())
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                LEFTOVERS_DROPPED
                    .get_or_init(|| drop_leftover_schemas(&admin))
                    .await;
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .expect("create schema");
                admin.close().await.ok();
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                TestDatabase {
                    url,
                    clock: world_clock(),
                    _dir: None,
                }
            }
        }
    }
}

/// A port no one listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The service binary, to be started as `serve` on `port` with its own database and mail folder
/// and the service token (tests add what else they need).
pub fn binary_serving(
    database: &TestDatabase,
    port: u16,
    mail_dir: &std::path::Path,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_comment-service"));
    command
        .arg("serve")
        .env("DATABASE_URL", &database.url)
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("API_TOKENS", format!("web:service:{SERVICE_TOKEN}"))
        .env("MAIL_DIR", mail_dir);
    command
}

/// A client and the base URL of the server on `port`, once it answers `/healthz`.
pub async fn client_when_healthy(port: u16) -> (Client, String) {
    let client = http_client();
    let base = format!("http://127.0.0.1:{port}");
    eventually("the server to answer /healthz", || async {
        client.get(format!("{base}/healthz")).send().await.ok()
    })
    .await;
    (client, base)
}

/// What the `generate` binary says it wrote.
pub struct Generated {
    pub articles: u64,
    pub comments: u64,
    pub flags: Option<u64>,
    pub decisions: Option<u64>,
}

/// Runs the `generate` binary (the benchmark data generator) on the test's database with `args`
/// (`--articles 20`, ...) and reads its summary.
pub async fn generate(database: &TestDatabase, args: &[&str]) -> Generated {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_generate"))
        .args(args)
        .env("DATABASE_URL", &database.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run generate");
    assert!(out.status.success(), "{out:?}");
    let summary = String::from_utf8(out.stdout).expect("a summary in UTF-8");
    let words: Vec<&str> = summary
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .collect();
    // The number before `what`: `generated 21 articles and 1300 comments`.
    let count = |what: &str| {
        words
            .windows(2)
            .find(|w| w[1] == what)
            .map(|w| w[0].parse::<u64>().expect("a count"))
    };
    Generated {
        articles: count("articles").expect("{summary}"),
        comments: count("comments").expect("{summary}"),
        flags: count("flags"),
        decisions: count("decisions"),
    }
}

/// An HTTP client for talking to the app (TLS through the provider the service installs).
pub fn http_client() -> Client {
    comment_service::startup::install_tls_provider();
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A test's clock: the real time at the start, whole seconds (so times the test computes from it
/// print exactly), then only where the test moves it.
fn world_clock() -> Clock {
    Clock::manual(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0))
}

/// The fields not every test reads (the SMTP server, the mail directory) are kept alive with the app.
#[allow(dead_code)]
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: Client,
    pub db: DatabaseConnection,
    pub state: actix_web::web::Data<AppState>,
    /// The clock the app reads: it stands still until the test moves it.
    pub clock: Clock,
    pub handle: actix_web::dev::ServerHandle,
    pub database: TestDatabase,
    pub smtp: Option<TestSmtpServer>,
    pub mail_dir: tempfile::TempDir,
}

/// Settings for a test app; `vars` override the defaults.
pub fn test_settings(
    database_url: &str,
    mail_dir: &std::path::Path,
    vars: &[(&str, String)],
) -> Settings {
    let mut all: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.to_string()),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        (
            "API_TOKENS".into(),
            format!("web:service:{SERVICE_TOKEN},anna:moderator:{MODERATOR_TOKEN}"),
        ),
        (
            "ACTION_LINK_SECRET".into(),
            "test-secret-for-action-links".into(),
        ),
        ("MAIL_DIR".into(), mail_dir.display().to_string()),
        // Scheduled runs stay out of the way unless a test asks for them.
        ("CLOSE_EXPIRED_SCHEDULE".into(), "0 0 0 1 1 *".into()),
        (
            "DELIVER_NOTIFICATIONS_SCHEDULE".into(),
            "0 0 0 1 1 *".into(),
        ),
    ];
    for (k, v) in vars {
        all.retain(|(key, _)| key != k);
        all.push((k.to_string(), v.clone()));
    }
    Settings::from_vars(all).expect("test settings")
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// An app with the open discussion `a1` (published a day ago).
pub async fn spawn_app_with_article(db: Db) -> TestApp {
    let app = spawn_app(db).await;
    app.put_recent_article("a1", None).await;
    app
}

pub async fn spawn_app_with(db: Db, vars: &[(&str, String)]) -> TestApp {
    let database = TestDatabase::create(&db).await;
    spawn_app_on(database, vars, None).await
}

/// An app that records webhook events (to a receiver that is not there: they stay in the outbox).
pub async fn app_with_events(db: Db) -> TestApp {
    app_with_events_and(db, &[]).await
}

/// [`app_with_events`] with more settings.
pub async fn app_with_events_and(db: Db, vars: &[(&str, String)]) -> TestApp {
    let url = format!("http://127.0.0.1:{}/hook", free_port());
    let mut all = vec![
        ("WEBHOOK_URL", url),
        ("WEBHOOK_SECRET", "test-webhook-secret-0123".to_owned()),
    ];
    all.extend(vars.iter().cloned());
    spawn_app_with(db, &all).await
}

/// Starts an app on an existing test database (a restart, or a second replica).
pub async fn spawn_app_on(
    database: TestDatabase,
    vars: &[(&str, String)],
    smtp: Option<TestSmtpServer>,
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        // Tests run until the process exits: the log writer may live as long.
        std::mem::forget(comment_service::telemetry::init(
            comment_service::config::LogFormat::Human,
        ));
    }
    let mail_dir = tempfile::tempdir().expect("mail dir");
    let settings = test_settings(&database.url, mail_dir.path(), vars);
    let clock = database.clock.clone();
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("build app");
    let port = app.port();
    let state = app.state();
    let handle = app.handle();
    let db = state.db().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: http_client(),

        db,
        state,
        clock,
        handle,
        database,
        smtp,
        mail_dir,
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    /// A request with the service token; returns status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        json_of(self.request(method, path, Some(SERVICE_TOKEN), body).await).await
    }

    /// A moderator's decision on a comment through the API; `hide` and `delete` get a statement
    /// of reasons (`terms`, `other`) unless `body` has one.
    pub async fn decide(&self, comment: &str, mut body: Value) -> (StatusCode, Value) {
        let restricts = matches!(body["action"].as_str(), Some("hide" | "delete"));
        if restricts && body.get("ground").is_none() {
            body["ground"] = "terms".into();
            body["category"] = "other".into();
        }
        self.decide_exactly(comment, body).await
    }

    /// [`TestApp::decide`], which must answer 200; returns the answer.
    pub async fn decide_ok(&self, comment: &str, body: Value) -> Value {
        let (status, value) = self.decide(comment, body).await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value
    }

    /// A moderator's decision on a comment through the API, with `body` as it is.
    pub async fn decide_exactly(&self, comment: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/api/v1/comments/{comment}/moderation");
        self.call_as_moderator(Method::POST, &path, Some(body))
            .await
    }

    pub async fn call_as_moderator(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        json_of(
            self.request(method, path, Some(MODERATOR_TOKEN), body)
                .await,
        )
        .await
    }

    /// A moderator's `action` (`{"action": "close", ...}`) on an article's discussion.
    pub async fn moderate_discussion(&self, article: &str, action: Value) -> (StatusCode, Value) {
        self.call_as_moderator(
            Method::POST,
            &format!("/api/v1/articles/{article}/discussion"),
            Some(action),
        )
        .await
    }

    pub async fn put_topic(&self, slug: &str, name: &str) -> Value {
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/v1/topics/{slug}"),
                Some(json!({"name": name, "overview_url": format!("https://www.krone.at/{slug}")})),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        body
    }

    pub async fn put_article(&self, id: &str, topic: Option<&str>, published_at: &str) -> Value {
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/v1/articles/{id}"),
                Some(json!({"title": format!("Artikel {id}"), "url": format!("https://www.krone.at/{id}"),
                            "topic": topic, "published_at": published_at})),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        body
    }

    /// Registers an article published `age` ago (so it closes `18 months - age` from now).
    pub async fn put_recent_article(&self, id: &str, topic: Option<&str>) -> Value {
        let published = self.clock.now() - chrono::Duration::days(1);
        self.put_article(id, topic, &published.to_rfc3339()).await
    }

    pub async fn post_comment(
        &self,
        article: &str,
        author: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/api/v1/articles/{article}/comments"),
            Some(json!({"author": {"id": author, "name": format!("Name {author}")}, "body": body})),
        )
        .await
    }

    /// Posts a comment that must succeed and returns its id.
    pub async fn comment(&self, article: &str, author: &str, body: &str) -> String {
        let (status, value) = self.post_comment(article, author, body).await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value["id"].as_str().expect("id").to_string()
    }

    pub async fn reply(&self, article: &str, parent: &str, author: &str, body: &str) -> String {
        let (status, value) = self
            .call(
                Method::POST,
                &format!("/api/v1/articles/{article}/comments"),
                Some(json!({"author": {"id": author, "name": "Replier"}, "body": body, "parent_id": parent})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value["id"].as_str().expect("id").to_string()
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Shorthands of [`TestApp::call`] and [`TestApp::call_as_moderator`] for one method each:
/// `name(path)` sends no body, `name(path, body)` the JSON `body`.
macro_rules! request_shorthands {
    ($($name:ident: $call:ident $method:ident $(, $body:ident)?;)*) => {
        impl TestApp {
            $(
                #[doc = concat!(
                    "`", stringify!($method), " path` through [`TestApp::", stringify!($call), "`]",
                    $(" with the JSON `", stringify!($body), "`",)? "."
                )]
                pub async fn $name(&self, path: &str $(, $body: Value)?) -> (StatusCode, Value) {
                    self.$call(Method::$method, path, None $(.or(Some($body)))?).await
                }
            )*
        }
    };
}

request_shorthands! {
    get: call GET;
    delete: call DELETE;
    post_json: call POST, body;
    put_json: call PUT, body;
    patch_json: call PATCH, body;
    delete_json: call DELETE, body;
    get_as_moderator: call_as_moderator GET;
    post_json_as_moderator: call_as_moderator POST, body;
    put_json_as_moderator: call_as_moderator PUT, body;
}

pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// How long [`eventually`] keeps asking before it gives up.
pub const EVENTUALLY_DEADLINE: Duration = Duration::from_secs(20);
/// How long [`eventually`] waits between two questions.
const EVENTUALLY_POLL: Duration = Duration::from_millis(20);

/// Asks `f` until it answers `Some(value)` and returns that value: right away, then every
/// 20 ms. Panics with "timed out ... waiting for {what}" when no answer came within
/// [`EVENTUALLY_DEADLINE`] (generous, so a slow machine is not a failure).
pub async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(what, EVENTUALLY_DEADLINE, f).await
}

async fn eventually_within<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = tokio::time::Instant::now();
    loop {
        if let Some(value) = f().await {
            return value;
        }
        let waited = started.elapsed();
        assert!(
            waited < deadline,
            "timed out after {waited:?} waiting for {what}"
        );
        tokio::time::sleep(EVENTUALLY_POLL).await;
    }
}

/// The `id`s of a JSON array of objects, in order.
pub fn ids_of(list: &Value) -> Vec<&str> {
    strings_of(list, "id")
}

/// The string `field` of each object of a JSON array, in order.
pub fn strings_of<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

/// The ids of the comments on a page of the moderation queue, in its order.
pub fn queued_ids(queue: &Value) -> Vec<&str> {
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_str().unwrap())
        .collect()
}

/// Asserts the contract's error shape and code.
pub fn assert_error(status: StatusCode, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status.as_u16(), expected_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["details"].is_object(), "{body}");
}

/// Generates one `#[tokio::test]` per database for each listed `async fn name(db: Db)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::helpers::Db::postgres(stringify!($name)) {
                        super::$name(db).await
                    }
                }
            )*
        }
    };
}

mod eventually_tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::{eventually, eventually_within};

    #[tokio::test]
    async fn eventually_asks_again_until_there_is_an_answer_and_returns_it() {
        let asked = AtomicU32::new(0);
        let answer = eventually("the third question", || async {
            let n = asked.fetch_add(1, Ordering::SeqCst) + 1;
            (n == 3).then(|| format!("answered on question {n}"))
        })
        .await;
        assert_eq!(answer, "answered on question 3");
        assert_eq!(
            asked.load(Ordering::SeqCst),
            3,
            "no question after the answer"
        );
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for an answer that never comes")]
    async fn eventually_panics_with_what_it_waited_for_when_the_time_is_up() {
        eventually_within(
            "an answer that never comes",
            Duration::from_millis(100),
            || async { None::<()> },
        )
        .await;
    }
}
