//! Random interleavings of what authors, readers and moderators do to one article's comments,
//! sent concurrently to two replicas of one database (property tests with proptest). After
//! each case the integrity rules hold on the database and through the API:
//! 1. a comment whose latest moderator decision is `hide` or `delete` is not visible (nor shown
//!    as visible to a service token), and an author's edit or delete of a comment that is not
//!    their visible comment is refused with 409 `state_conflict` and changes nothing;
//! 2. every decision has its webhook events, every resolved flag a decision and its
//!    `flag.decided` event, and no appeal stays open once its decision is no longer the latest;
//! 3. an erasure changes no row that belongs to another author;
//! 4. no response is a 5xx.
//!
//! Each case gets a fresh article on the same two apps. `INTEGRITY_CASES` sets the number of
//! cases (default 500 on SQLite, 100 on PostgreSQL).

// Ids in event bodies are JSON strings: they are compared with the ids written out.
#![allow(clippy::cmp_owned)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use comment_service::domain::states::{AppealStatus, CommentStatus, DecidedAction, EventType};
use comment_service::entity::{
    appeal, author, comment, decision, event, flag, idempotency_key, moderation_log,
};
use futures_util::future::join_all;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use reqwest::Method;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, TestApp, free_port, json_of, spawn_app_on, spawn_app_with,
};

/// A second moderator: an appeal is decided by another moderator than the contested decision.
const BERND_TOKEN: &str = "test-moderator-bernd";
const FLAG_HIDE_THRESHOLD: usize = 3;
const CATEGORIES: &[&str] = &[
    "insult",
    "hate",
    "spam",
    "threat",
    "privacy",
    "off_topic",
    "misinformation",
    "other",
];

#[test]
fn random_interleavings_on_two_replicas_keep_decisions_events_and_other_authors_rows_on_sqlite() {
    run_property("sqlite", Db::Sqlite, cases(500));
}

#[test]
fn random_interleavings_on_two_replicas_keep_decisions_events_and_other_authors_rows_on_postgres() {
    let name = "random_interleavings_on_two_replicas_keep_decisions_events_and_other_authors_rows";
    if let Some(db) = Db::postgres(name) {
        run_property("postgres", db, cases(100));
    }
}

/// `INTEGRITY_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    match std::env::var("INTEGRITY_CASES") {
        Ok(n) if !n.trim().is_empty() => n
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("INTEGRITY_CASES={n:?} is not a number of cases")),
        _ => default,
    }
}

// ---------------------------------------------------------------------------------------------
// What a case is: generated data, printed as it is when a case fails.

/// Which replica a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum On {
    A,
    B,
}

/// A comment's text: a fresh one, or the id of an author in the pool (so that stored answers
/// and events hold strings equal to author ids).
#[derive(Clone, Copy, Debug)]
enum Text {
    Fresh,
    AuthorId(usize),
}

#[derive(Clone, Copy, Debug)]
enum Reason {
    Spam,
    Abuse,
    OffTopic,
    Illegal,
    Misinformation,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Approve,
    Hide,
    Delete,
}

#[derive(Clone, Copy, Debug)]
enum Moderator {
    Anna,
    Bernd,
}

#[derive(Clone, Copy, Debug)]
enum Ground {
    Terms,
    Illegal,
}

/// One request (or, for `FlagsToThreshold`, a few). `author`, `reporter` and `comment` pick
/// from the case's author pool and from the comments posted so far (modulo their number).
#[derive(Clone, Debug)]
enum Op {
    Post {
        author: usize,
        reply_to: Option<usize>,
        text: Text,
        idempotency_key: bool,
    },
    Edit {
        comment: usize,
        text: Text,
    },
    Delete {
        comment: usize,
    },
    Flag {
        comment: usize,
        reporter: usize,
        reason: Reason,
    },
    /// As many flags by different reporters as the hide threshold needs.
    FlagsToThreshold {
        comment: usize,
        first_reporter: usize,
    },
    Decide {
        comment: usize,
        action: Action,
        by: Moderator,
        ground: Ground,
        category: &'static str,
    },
    Appeal {
        comment: usize,
    },
}

#[derive(Clone, Debug)]
enum Step {
    /// Sent concurrently.
    Together(Vec<(On, Op)>),
    /// `DELETE /api/v1/authors/{id}`, alone.
    Erase { author: usize, on: On },
}

#[derive(Clone, Debug)]
struct Case {
    /// Authors whose top-level comments open the discussion (sent concurrently).
    opening: Vec<(On, usize)>,
    steps: Vec<Step>,
}

fn on() -> impl Strategy<Value = On> {
    prop_oneof![Just(On::A), Just(On::B)]
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![3 => Just(Text::Fresh), 1 => (0..POOL).prop_map(Text::AuthorId)]
}

fn reason() -> impl Strategy<Value = Reason> {
    prop_oneof![
        Just(Reason::Spam),
        Just(Reason::Abuse),
        Just(Reason::OffTopic),
        Just(Reason::Illegal),
        Just(Reason::Misinformation),
        Just(Reason::Other),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Approve),
        Just(Action::Hide),
        Just(Action::Delete)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let comment = || 0..12usize;
    prop_oneof![
        3 => (0..POOL, prop::option::weighted(0.4, comment()), text(), any::<bool>()).prop_map(
            |(author, reply_to, text, idempotency_key)| Op::Post { author, reply_to, text, idempotency_key }
        ),
        2 => (comment(), text()).prop_map(|(comment, text)| Op::Edit { comment, text }),
        1 => comment().prop_map(|comment| Op::Delete { comment }),
        2 => (comment(), 0..POOL, reason())
            .prop_map(|(comment, reporter, reason)| Op::Flag { comment, reporter, reason }),
        1 => (comment(), 0..POOL).prop_map(|(comment, first_reporter)| Op::FlagsToThreshold {
            comment,
            first_reporter
        }),
        3 => (
            comment(),
            action(),
            prop_oneof![Just(Moderator::Anna), Just(Moderator::Bernd)],
            prop_oneof![3 => Just(Ground::Terms), 1 => Just(Ground::Illegal)],
            prop::sample::select(CATEGORIES),
        )
            .prop_map(|(comment, action, by, ground, category)| Op::Decide {
                comment,
                action,
                by,
                ground,
                category
            }),
        1 => comment().prop_map(|comment| Op::Appeal { comment }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec((on(), op()), 1..=4).prop_map(Step::Together),
        1 => (0..POOL, on()).prop_map(|(author, on)| Step::Erase { author, on }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((on(), 0..POOL), 1..=3),
        prop::collection::vec(step(), 3..=7),
    )
        .prop_map(|(opening, steps)| Case { opening, steps })
}

// ---------------------------------------------------------------------------------------------
// Running a property.

fn run_property(db_name: &str, db: Db, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let apps = runtime.block_on(two_replicas(db));
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 300,
        max_shrink_time: 180_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let started = std::time::Instant::now();
    let result = runner.run(&case(), |case| {
        runtime
            .block_on(run_case(&apps, &case))
            .map_err(TestCaseError::fail)
    });
    let elapsed = started.elapsed();
    match result {
        Ok(()) => println!(
            "integrity on {db_name}: {cases} cases in {:.1} s",
            elapsed.as_secs_f64()
        ),
        Err(TestError::Fail(reason, case)) => panic!(
            "integrity on {db_name} failed (after {:.1} s); the smallest failing case:\n{case:#?}\n\n{reason}",
            elapsed.as_secs_f64()
        ),
        Err(TestError::Abort(reason)) => panic!("integrity on {db_name} aborted: {reason}"),
    }
    runtime.block_on(async {
        for app in &apps {
            app.stop().await;
        }
    });
    drop(apps);
}

/// Two apps on one database. Events are recorded (to a webhook receiver that is not there, so
/// they stay in the outbox), scheduled jobs stay out of the way, and the rate limit does not
/// refuse the many posts of the pool's few authors.
async fn two_replicas(db: Db) -> [TestApp; 2] {
    let vars = vec![
        (
            "WEBHOOK_URL",
            format!("http://127.0.0.1:{}/hook", free_port()),
        ),
        ("WEBHOOK_SECRET", "test-webhook-secret-0123".to_owned()),
        ("DELIVER_EVENTS_SCHEDULE", "0 0 0 1 1 *".to_owned()),
        ("REMINDERS_SCHEDULE", "0 0 0 1 1 *".to_owned()),
        ("PURGE_SCHEDULE", "0 0 0 1 1 *".to_owned()),
        ("COMMENT_RATE_LIMIT", "100000".to_owned()),
        ("FLAG_NOTIFY_THRESHOLD", "1".to_owned()),
        ("FLAG_HIDE_THRESHOLD", FLAG_HIDE_THRESHOLD.to_string()),
        (
            "API_TOKENS",
            format!(
                "web:service:{SERVICE_TOKEN},anna:moderator:{MODERATOR_TOKEN},bernd:moderator:{BERND_TOKEN}"
            ),
        ),
    ];
    let first = spawn_app_with(db, &vars).await;
    let second = spawn_app_on(first.database.share(), &vars, None).await;
    [first, second]
}

static SEQUENCE: AtomicU64 = AtomicU64::new(1);

fn next() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::Relaxed)
}

/// How many author ids a case's pool holds.
const POOL: usize = 8;

/// A comment posted in the case.
#[derive(Clone, Debug)]
struct Posted {
    id: i64,
    author: String,
}

/// What a case knows while it runs.
struct Run<'a> {
    apps: &'a [TestApp; 2],
    article: String,
    /// Author ids: some that erasure once matched in any JSON string (`7`, `17`, `hidden`,
    /// `visible`, `a1`), the ids the case's first comment and flag are likely to get, and one
    /// of the case's own.
    pool: Vec<String>,
    comments: Vec<Posted>,
    /// Idempotency key → the author whose post it was.
    keys: BTreeMap<String, String>,
    /// The comments of each erasure (their author id is the pseudonym now).
    erased: BTreeSet<i64>,
    /// The flags each erased author had filed when erased (their reporter is the pseudonym now).
    flags_erased: BTreeMap<String, BTreeSet<i64>>,
    /// Events before the case's first request.
    events_before: i64,
    /// What was sent and answered, for the failure message.
    trace: String,
}

impl Run<'_> {
    fn app(&self, on: On) -> &TestApp {
        &self.apps[on as usize]
    }

    fn db(&self) -> &DatabaseConnection {
        &self.apps[0].db
    }

    fn comment(&self, pick: usize) -> Option<&Posted> {
        (!self.comments.is_empty()).then(|| &self.comments[pick % self.comments.len()])
    }

    fn text(&self, text: Text) -> String {
        match text {
            Text::Fresh => format!("Kommentar Nummer {} zum Thema", next()),
            Text::AuthorId(i) => self.pool[i % POOL].clone(),
        }
    }

    fn fail(&self, what: impl std::fmt::Display) -> String {
        format!(
            "{what}\n\narticle {}, author pool {:?}\nwhat happened:\n{}",
            self.article, self.pool, self.trace
        )
    }
}

/// One request of a step, resolved against the case's state.
#[derive(Clone, Debug)]
struct Request {
    on: On,
    method: Method,
    path: String,
    token: &'static str,
    body: Value,
    key: Option<String>,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Post { author: String },
    Edit { comment: i64 },
    Delete { comment: i64 },
    Flag { comment: i64 },
    Decide { comment: i64, action: Action },
    Appeal { comment: i64 },
    Erase,
}

impl Kind {
    fn comment(&self) -> Option<i64> {
        match self {
            Kind::Edit { comment }
            | Kind::Delete { comment }
            | Kind::Flag { comment }
            | Kind::Decide { comment, .. }
            | Kind::Appeal { comment } => Some(*comment),
            Kind::Post { .. } | Kind::Erase => None,
        }
    }
}

/// A request's answer.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

async fn send(app: &TestApp, request: &Request) -> Result<Answer, String> {
    let mut builder = app
        .client
        .request(
            request.method.clone(),
            format!("{}{}", app.address, request.path),
        )
        .bearer_auth(request.token)
        .json(&request.body);
    if let Some(key) = &request.key {
        builder = builder.header("Idempotency-Key", key);
    }
    let response = builder
        .send()
        .await
        .map_err(|e| format!("{} {} failed: {e}", request.method, request.path))?;
    let (status, body) = json_of(response).await;
    Ok(Answer {
        status: status.as_u16(),
        body,
    })
}

fn flag_body(reporter: &str, reason: Reason) -> Value {
    match reason {
        Reason::Illegal => json!({"reporter": {"id": reporter}, "reason": "illegal",
            "note": "Aufruf zu Gewalt gegen eine Gruppe", "legal_reference": "§ 282 StGB"}),
        Reason::Other => {
            json!({"reporter": {"id": reporter}, "reason": "other", "note": "Passt nicht hierher"})
        }
        Reason::Spam => json!({"reporter": {"id": reporter}, "reason": "spam"}),
        Reason::Abuse => json!({"reporter": {"id": reporter}, "reason": "abuse"}),
        Reason::OffTopic => json!({"reporter": {"id": reporter}, "reason": "off_topic"}),
        Reason::Misinformation => json!({"reporter": {"id": reporter}, "reason": "misinformation"}),
    }
}

/// The requests of one op (none when it names a comment and there is none yet).
fn requests(run: &Run<'_>, on: On, op: &Op) -> Vec<Request> {
    let request = |method: Method, path: String, token, body, kind| Request {
        on,
        method,
        path,
        token,
        body,
        key: None,
        kind,
    };
    match op {
        Op::Post {
            author,
            reply_to,
            text,
            idempotency_key,
        } => {
            let author = run.pool[author % POOL].clone();
            let parent = reply_to
                .and_then(|pick| run.comment(pick))
                .map(|c| c.id.to_string());
            let body = json!({"author": {"id": author, "name": format!("Name {author}")},
                              "body": run.text(*text), "parent_id": parent});
            let mut post = request(
                Method::POST,
                format!("/api/v1/articles/{}/comments", run.article),
                SERVICE_TOKEN,
                body,
                Kind::Post { author },
            );
            if *idempotency_key {
                post.key = Some(format!("{}-key-{}", run.article, next()));
            }
            vec![post]
        }
        Op::Edit { comment, text } => run.comment(*comment).map_or(vec![], |c| {
            vec![request(
                Method::PATCH,
                format!("/api/v1/comments/{}", c.id),
                SERVICE_TOKEN,
                json!({"author_id": c.author, "body": run.text(*text)}),
                Kind::Edit { comment: c.id },
            )]
        }),
        Op::Delete { comment } => run.comment(*comment).map_or(vec![], |c| {
            vec![request(
                Method::DELETE,
                format!("/api/v1/comments/{}", c.id),
                SERVICE_TOKEN,
                json!({"author_id": c.author}),
                Kind::Delete { comment: c.id },
            )]
        }),
        Op::Flag {
            comment,
            reporter,
            reason,
        } => run.comment(*comment).map_or(vec![], |c| {
            vec![request(
                Method::POST,
                format!("/api/v1/comments/{}/flags", c.id),
                SERVICE_TOKEN,
                flag_body(&run.pool[reporter % POOL], *reason),
                Kind::Flag { comment: c.id },
            )]
        }),
        Op::FlagsToThreshold {
            comment,
            first_reporter,
        } => run.comment(*comment).map_or(vec![], |c| {
            (0..POOL)
                .map(|i| &run.pool[(first_reporter + i) % POOL])
                .filter(|reporter| **reporter != c.author)
                .take(FLAG_HIDE_THRESHOLD)
                .map(|reporter| {
                    request(
                        Method::POST,
                        format!("/api/v1/comments/{}/flags", c.id),
                        SERVICE_TOKEN,
                        flag_body(reporter, Reason::Abuse),
                        Kind::Flag { comment: c.id },
                    )
                })
                .collect()
        }),
        Op::Decide {
            comment,
            action,
            by,
            ground,
            category,
        } => run.comment(*comment).map_or(vec![], |c| {
            let body = match (action, ground) {
                (Action::Approve, _) => json!({"action": "approve"}),
                (_, Ground::Terms) => json!({"action": action_name(*action), "ground": "terms",
                    "category": category, "explanation": "Verstößt gegen die Regeln"}),
                (_, Ground::Illegal) => json!({"action": action_name(*action), "ground": "illegal",
                    "category": category, "legal_reference": "§ 111 StGB"}),
            };
            let token = match by {
                Moderator::Anna => MODERATOR_TOKEN,
                Moderator::Bernd => BERND_TOKEN,
            };
            vec![request(
                Method::POST,
                format!("/api/v1/comments/{}/moderation", c.id),
                token,
                body,
                Kind::Decide {
                    comment: c.id,
                    action: *action,
                },
            )]
        }),
        Op::Appeal { comment } => run.comment(*comment).map_or(vec![], |c| {
            vec![request(
                Method::POST,
                format!("/api/v1/comments/{}/appeal", c.id),
                SERVICE_TOKEN,
                json!({"author_id": c.author, "text": "Das war Satire, keine Beleidigung."}),
                Kind::Appeal { comment: c.id },
            )]
        }),
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Approve => "approve",
        Action::Hide => "hide",
        Action::Delete => "delete",
    }
}

/// Sends `requests` concurrently, writes them to the trace, refuses 5xx (and answers that say
/// the test sent nonsense), and remembers the comments posted.
async fn send_together(run: &mut Run<'_>, requests: &[Request]) -> Result<Vec<Answer>, String> {
    let answers = join_all(requests.iter().map(|r| send(run.app(r.on), r))).await;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (request, answer) in requests.iter().zip(answers) {
        let answer = answer.map_err(|e| run.fail(e))?;
        let _ = writeln!(
            run.trace,
            "    [{:?}] {} {} {}{} -> {} {}",
            request.on,
            request.method,
            request.path,
            request.body,
            request
                .key
                .as_ref()
                .map(|k| format!(" (Idempotency-Key {k})"))
                .unwrap_or_default(),
            answer.status,
            answer.code()
        );
        if answer.status >= 500 || matches!(answer.status, 400 | 401 | 413) {
            problems.push(format!(
                "{} {} answered {}: {}",
                request.method, request.path, answer.status, answer.body
            ));
        }
        if let Kind::Post { author } = &request.kind
            && answer.status == 201
        {
            let id: i64 = answer.body["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| run.fail(format!("a post answered {}", answer.body)))?;
            if !run.comments.iter().any(|c| c.id == id) {
                run.comments.push(Posted {
                    id,
                    author: author.clone(),
                });
            }
            if let Some(key) = &request.key {
                run.keys.insert(key.clone(), author.clone());
            }
        } else if let (Kind::Post { author }, Some(key)) = (&request.kind, &request.key) {
            run.keys.insert(key.clone(), author.clone());
        }
        out.push(answer);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(run.fail(format!(
            "answers no request may get:\n  {}",
            problems.join("\n  ")
        )))
    }
}

async fn run_case(apps: &[TestApp; 2], case: &Case) -> Result<(), String> {
    let n = next();
    // Past the repeat-post window and the rate limit's minute of the last case.
    apps[0].clock.advance(chrono::Duration::minutes(11));
    let article = format!("int-{n}");
    apps[0].put_recent_article(&article, None).await;
    let db = &apps[0].db;
    let last = |id: Option<i64>| id.unwrap_or(0);
    let next_comment = last(
        comment::Entity::find()
            .order_by_desc(comment::Column::Id)
            .one(db)
            .await
            .map_err(|e| e.to_string())?
            .map(|c| c.id),
    ) + 1;
    let next_flag = last(
        flag::Entity::find()
            .order_by_desc(flag::Column::Id)
            .one(db)
            .await
            .map_err(|e| e.to_string())?
            .map(|f| f.id),
    ) + 1;
    let events_before = last(
        event::Entity::find()
            .order_by_desc(event::Column::Id)
            .one(db)
            .await
            .map_err(|e| e.to_string())?
            .map(|e| e.id),
    );
    let pool = vec![
        "7".to_owned(),
        "17".to_owned(),
        "hidden".to_owned(),
        "visible".to_owned(),
        "a1".to_owned(),
        next_comment.to_string(),
        next_flag.to_string(),
        format!("u-{n}"),
    ];
    let mut run = Run {
        apps,
        article,
        pool,
        comments: Vec::new(),
        keys: BTreeMap::new(),
        erased: BTreeSet::new(),
        flags_erased: BTreeMap::new(),
        events_before,
        trace: String::new(),
    };
    run.trace.push_str("  opening\n");
    let opening: Vec<Request> = case
        .opening
        .iter()
        .flat_map(|(on, author)| {
            let post = Op::Post {
                author: *author,
                reply_to: None,
                text: Text::Fresh,
                idempotency_key: false,
            };
            requests(&run, *on, &post)
        })
        .collect();
    send_together(&mut run, &opening).await?;
    for (i, step) in case.steps.iter().enumerate() {
        let _ = writeln!(run.trace, "  step {}", i + 1);
        match step {
            Step::Together(ops) => {
                let requests: Vec<Request> = ops
                    .iter()
                    .flat_map(|(on, op)| requests(&run, *on, op))
                    .collect();
                together(&mut run, &requests).await?;
            }
            Step::Erase { author, on } => {
                let author = run.pool[author % POOL].clone();
                erase_alone(&mut run, &author, *on).await?;
            }
        }
    }
    check_database(&run).await?;
    check_threads(&run).await
}

/// A step's requests, sent together; an author's edit or delete of a comment that was not
/// visible before the step (and that no approval in the step could make visible) must be
/// refused with 409 `state_conflict` and, when nothing else in the step touched the comment,
/// leave it as it was.
async fn together(run: &mut Run<'_>, requests: &[Request]) -> Result<(), String> {
    let before = case_comments(run).await?;
    let answers = send_together(run, requests).await?;
    let mut unchanged = Vec::new();
    for (i, (request, answer)) in requests.iter().zip(&answers).enumerate() {
        let (Kind::Edit { comment: id } | Kind::Delete { comment: id }) = request.kind else {
            continue;
        };
        let Some(was) = before.get(&id) else { continue };
        let approved_meanwhile = requests.iter().any(|r| {
            r.kind
                == Kind::Decide {
                    comment: id,
                    action: Action::Approve,
                }
        });
        let delete = matches!(request.kind, Kind::Delete { .. });
        if was.status == CommentStatus::Visible || approved_meanwhile || was.deleted_by_author {
            continue;
        }
        if answer.status != 409 || answer.code() != "state_conflict" {
            return Err(run.fail(format!(
                "the author's {} of comment {id} (status {}, not deleted by its author) answered \
                 {} {}, not 409 state_conflict",
                if delete { "DELETE" } else { "PATCH" },
                was.status,
                answer.status,
                answer.body
            )));
        }
        let alone = requests
            .iter()
            .enumerate()
            .all(|(j, r)| j == i || r.kind.comment() != Some(id));
        if alone {
            unchanged.push(was.clone());
        }
    }
    if !unchanged.is_empty() {
        let after = case_comments(run).await?;
        for was in unchanged {
            // Its count of visible replies follows its replies, which other requests of the
            // step may change: everything else is the comment's own.
            let now = after.get(&was.id).map(|c| comment::Model {
                reply_count: was.reply_count,
                ..c.clone()
            });
            if now.as_ref() != Some(&was) {
                return Err(run.fail(format!(
                    "a refused author's change changed comment {}:\n  before {was:?}\n  after  {:?}",
                    was.id,
                    after.get(&was.id)
                )));
            }
        }
    }
    Ok(())
}

async fn case_comments(run: &Run<'_>) -> Result<BTreeMap<i64, comment::Model>, String> {
    Ok(comment::Entity::find()
        .filter(comment::Column::ArticleId.eq(&run.article))
        .all(run.db())
        .await
        .map_err(|e| run.fail(e))?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Erasure: every row of other authors stays as it was.

/// Erases `author` with nothing else going on, and compares the rows of every other author
/// before and after.
async fn erase_alone(run: &mut Run<'_>, author: &str, on: On) -> Result<(), String> {
    let comments = case_comments(run).await?;
    let theirs: BTreeSet<i64> = comments
        .values()
        .filter(|c| c.author_id == author)
        .map(|c| c.id)
        .collect();
    let before = others_rows(run, author, &theirs, true).await?;
    let request = Request {
        on,
        method: Method::DELETE,
        path: format!("/api/v1/authors/{author}"),
        token: SERVICE_TOKEN,
        body: Value::Null,
        key: None,
        kind: Kind::Erase,
    };
    let answer = send_together(run, std::slice::from_ref(&request)).await?;
    if answer[0].status != 200 {
        return Err(run.fail(format!(
            "erasing {author} answered {} {}",
            answer[0].status, answer[0].body
        )));
    }
    let after = others_rows(run, author, &theirs, false).await?;
    let filed = filed_flags(run, author).await?;
    run.flags_erased
        .entry(author.to_owned())
        .or_default()
        .extend(filed);
    let mut changes = Vec::new();
    for (key, row) in &before {
        match after.get(key) {
            Some(now) if now == row => {}
            Some(now) => changes.push(format!(
                "{key} changed:\n      before {row}\n      after  {now}"
            )),
            None => changes.push(format!("{key} is gone:\n      before {row}")),
        }
    }
    for (key, row) in &after {
        // The erased author's own rows come back under their pseudonym (the flags they filed,
        // the erasure's `author.erased` event): not another author's.
        let erasure_told = row.contains("anon-");
        if !before.contains_key(key) && !erasure_told {
            changes.push(format!("{key} is new: {row}"));
        }
    }
    run.erased.extend(&theirs);
    if changes.is_empty() {
        Ok(())
    } else {
        Err(run.fail(format!(
            "erasing {author:?} (their comments here: {theirs:?}) changed rows of other authors:\n    {}",
            changes.join("\n    ")
        )))
    }
}

/// The ids of the flags `reporter` filed on the case's comments (open or resolved).
async fn filed_flags(run: &Run<'_>, reporter: &str) -> Result<BTreeSet<i64>, String> {
    let ids: Vec<i64> = run.comments.iter().map(|c| c.id).collect();
    Ok(flag::Entity::find()
        .filter(flag::Column::ReporterId.eq(reporter))
        .filter(flag::Column::CommentId.is_in(ids))
        .all(run.db())
        .await
        .map_err(|e| run.fail(e))?
        .into_iter()
        .map(|f| f.id)
        .collect())
}

/// Every row of the case that belongs to another author than `erased` (whose comments here are
/// `theirs`), by table and id, as text: their comments (the count of visible replies, in the
/// `before` snapshot, already without the erased author's visible replies; the count of open
/// flags without the erased author's open flag on a comment they had flagged before an earlier
/// erasure, since one reader's open flags count once under the pseudonym), the flags filed on
/// their comments by others, the events, decisions, appeals and log entries about their
/// comments, the stored answers to their posts, and their author records. An event is compared
/// without its delivery bookkeeping (the sender tries to deliver it meanwhile).
async fn others_rows(
    run: &Run<'_>,
    erased: &str,
    theirs: &BTreeSet<i64>,
    before: bool,
) -> Result<BTreeMap<String, String>, String> {
    let db = run.db();
    let err = |e: sea_orm::DbErr| run.fail(e);
    let comments = case_comments(run).await?;
    let others: Vec<i64> = comments
        .keys()
        .copied()
        .filter(|id| !theirs.contains(id))
        .collect();
    let open_flags: Vec<flag::Model> = flag::Entity::find()
        .filter(flag::Column::CommentId.is_in(others.clone()))
        .filter(flag::Column::ResolvedAt.is_null())
        .all(db)
        .await
        .map_err(err)?;
    let earlier = run.flags_erased.get(erased);
    let counted_twice = |comment: i64| {
        let by_pseudonym = open_flags
            .iter()
            .any(|f| f.comment_id == comment && earlier.is_some_and(|e| e.contains(&f.id)));
        let by_id = open_flags
            .iter()
            .any(|f| f.comment_id == comment && f.reporter_id == erased);
        by_pseudonym && by_id
    };
    let mut rows = BTreeMap::new();
    for id in &others {
        let mut c = comments[id].clone();
        if before && counted_twice(c.id) {
            c.flag_count -= 1;
        }
        if before {
            c.reply_count -= comments
                .values()
                .filter(|r| {
                    r.parent_id == Some(c.id)
                        && theirs.contains(&r.id)
                        && r.status == CommentStatus::Visible
                })
                .count() as i64;
        }
        rows.insert(format!("comments #{id}"), format!("{c:?}"));
    }
    let ids: Vec<i64> = others.clone();
    for f in flag::Entity::find()
        .filter(flag::Column::CommentId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(err)?
    {
        if f.reporter_id != erased {
            rows.insert(format!("flags #{}", f.id), format!("{f:?}"));
        }
    }
    for d in decision::Entity::find()
        .filter(decision::Column::CommentId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(err)?
    {
        rows.insert(format!("decisions #{}", d.id), format!("{d:?}"));
    }
    for a in appeal::Entity::find()
        .filter(appeal::Column::CommentId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(err)?
    {
        rows.insert(format!("appeals #{}", a.id), format!("{a:?}"));
    }
    for l in moderation_log::Entity::find()
        .filter(moderation_log::Column::CommentId.is_in(ids.clone()))
        .all(db)
        .await
        .map_err(err)?
    {
        rows.insert(format!("moderation_log #{}", l.id), format!("{l:?}"));
    }
    let streams: BTreeSet<String> = others.iter().map(|id| format!("comment:{id}")).collect();
    for e in event::Entity::find()
        .filter(event::Column::Id.gt(run.events_before))
        .all(db)
        .await
        .map_err(err)?
    {
        let about_others = streams.contains(&e.stream)
            || (e.stream.starts_with("author:") && e.stream != format!("author:{erased}"));
        if about_others {
            rows.insert(
                format!("events #{}", e.id),
                format!(
                    "event_id={} type={} stream={} created_at={} payload={}",
                    e.event_id, e.event_type, e.stream, e.created_at, e.payload
                ),
            );
        }
    }
    for k in idempotency_key::Entity::find()
        .filter(idempotency_key::Column::Key.starts_with(format!("{}-key-", run.article)))
        .all(db)
        .await
        .map_err(err)?
    {
        if run.keys.get(&k.key).is_some_and(|a| a != erased) {
            rows.insert(
                format!("idempotency_keys {}/{}", k.caller, k.key),
                format!("{k:?}"),
            );
        }
    }
    let other_authors: Vec<String> = run
        .pool
        .iter()
        .filter(|a| a.as_str() != erased)
        .cloned()
        .collect();
    for a in author::Entity::find()
        .filter(author::Column::Id.is_in(other_authors))
        .all(db)
        .await
        .map_err(err)?
    {
        rows.insert(format!("authors {}", a.id), format!("{a:?}"));
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// After a case: decisions hold, and every decision is told.

fn payload(e: &event::Model) -> Value {
    serde_json::from_str(&e.payload).unwrap_or(Value::Null)
}

async fn check_database(run: &Run<'_>) -> Result<(), String> {
    let db = run.db();
    let err = |e: sea_orm::DbErr| run.fail(e);
    let comments = case_comments(run).await?;
    let ids: Vec<i64> = comments.keys().copied().collect();
    let flags = flag::Entity::find()
        .filter(flag::Column::CommentId.is_in(ids.clone()))
        .order_by_asc(flag::Column::Id)
        .all(db)
        .await
        .map_err(err)?;
    let decisions = decision::Entity::find()
        .filter(decision::Column::CommentId.is_in(ids.clone()))
        .order_by_asc(decision::Column::Id)
        .all(db)
        .await
        .map_err(err)?;
    let appeals = appeal::Entity::find()
        .filter(appeal::Column::CommentId.is_in(ids.clone()))
        .order_by_asc(appeal::Column::Id)
        .all(db)
        .await
        .map_err(err)?;
    let events = event::Entity::find()
        .filter(event::Column::Id.gt(run.events_before))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await
        .map_err(err)?;
    let mut problems: Vec<String> = Vec::new();

    let by_moderators: Vec<&decision::Model> = decisions.iter().filter(|d| !d.automated).collect();
    let latest: HashMap<i64, &decision::Model> =
        by_moderators.iter().map(|d| (d.comment_id, *d)).collect();
    let events_of = |comment: i64| {
        let stream = format!("comment:{comment}");
        events
            .iter()
            .filter(move |e| e.stream == stream)
            .collect::<Vec<_>>()
    };

    for c in comments.values() {
        // 1. The latest decision holds.
        let erased = run.erased.contains(&c.id);
        if let Some(d) = latest.get(&c.id) {
            let holds = match d.action {
                DecidedAction::Hide => {
                    c.status == CommentStatus::Hidden
                        || (erased && c.status == CommentStatus::Deleted)
                }
                DecidedAction::Delete => c.status == CommentStatus::Deleted,
                DecidedAction::Approve | DecidedAction::Hold => true,
            };
            if !holds {
                problems.push(format!(
                    "comment {} is {} (deleted by its author: {}) but its latest decision #{} is {} by {:?}",
                    c.id,
                    c.status,
                    c.deleted_by_author,
                    d.id,
                    d.action,
                    d.moderator
                ));
            }
        }
        // Its counts agree with its rows.
        let open_flags = flags
            .iter()
            .filter(|f| f.comment_id == c.id && f.resolved_at.is_none())
            .count() as i64;
        if c.flag_count != open_flags {
            problems.push(format!(
                "comment {} counts {} unresolved flags, {} are",
                c.id, c.flag_count, open_flags
            ));
        }
        let visible_replies = comments
            .values()
            .filter(|r| r.parent_id == Some(c.id) && r.status == CommentStatus::Visible)
            .count() as i64;
        if c.reply_count != visible_replies {
            problems.push(format!(
                "comment {} counts {} visible replies, {} are",
                c.id, c.reply_count, visible_replies
            ));
        }
        // 2. Every status a moderator's decision set was told to the website.
        if !erased {
            for (action, event_type) in [
                (DecidedAction::Approve, EventType::CommentApproved),
                (DecidedAction::Hide, EventType::CommentHidden),
                (DecidedAction::Delete, EventType::CommentDeleted),
            ] {
                let of_action: Vec<&&decision::Model> = by_moderators
                    .iter()
                    .filter(|d| d.comment_id == c.id && d.action == action)
                    .collect();
                let told = events_of(c.id)
                    .iter()
                    .filter(|e| e.event_type == event_type)
                    .count();
                // A decision that resolved no flag and decided no appeal changed the status.
                let changed_status = of_action
                    .iter()
                    .filter(|d| {
                        d.appeal_id.is_none() && !flags.iter().any(|f| f.decision_id == Some(d.id))
                    })
                    .count();
                if told > of_action.len() || told < changed_status {
                    problems.push(format!(
                        "comment {}: {} {action} decisions ({changed_status} of them only changed the status) but {told} {event_type} events",
                        c.id,
                        of_action.len(),
                    ));
                }
            }
        }
    }

    // 2. Every resolved flag was resolved by a decision, and its reporter told.
    for f in &flags {
        match (f.resolved_at, f.decision_id) {
            (None, None) => {}
            (None, Some(d)) => {
                problems.push(format!("flag {} is open but names decision {d}", f.id))
            }
            (Some(_), None) => problems.push(format!(
                "flag {} on comment {} is resolved without a decision",
                f.id, f.comment_id
            )),
            (Some(_), Some(d)) => {
                let Some(decision) = decisions.iter().find(|x| x.id == d) else {
                    problems.push(format!(
                        "flag {} names decision {d}, which is not there",
                        f.id
                    ));
                    continue;
                };
                if decision.comment_id != f.comment_id {
                    problems.push(format!(
                        "flag {} on comment {} names decision {d} on comment {}",
                        f.id, f.comment_id, decision.comment_id
                    ));
                }
                let told: Vec<Value> = events_of(f.comment_id)
                    .iter()
                    .filter(|e| e.event_type == EventType::FlagDecided)
                    .map(|e| payload(e))
                    .filter(|p| p["data"]["flag_id"] == f.id.to_string())
                    .collect();
                let right = told.len() == 1
                    && told[0]["data"]["decision"]["action"] == decision.action.as_str()
                    && told[0]["data"]["comment_id"] == f.comment_id.to_string();
                if !right {
                    problems.push(format!(
                        "flag {} was decided by decision {d} ({}) but its flag.decided events are {told:?}",
                        f.id, decision.action
                    ));
                }
            }
        }
    }

    // 2. Appeals: decided ones by a decision that was told; open ones still contest the
    // comment's latest decision.
    for a in &appeals {
        let comment = &comments[&a.comment_id];
        let deciding = decisions.iter().find(|d| d.appeal_id == Some(a.id));
        match a.status {
            AppealStatus::Open => {
                let contests_latest =
                    latest.get(&a.comment_id).map(|d| d.id) == Some(a.decision_id);
                if deciding.is_some() || !comment.appeal_open || !contests_latest {
                    problems.push(format!(
                        "appeal {} on comment {} is open, but the comment's appeal_open is {}, its latest decision is {:?}, the appeal contests {}, deciding decision {:?}",
                        a.id,
                        a.comment_id,
                        comment.appeal_open,
                        latest.get(&a.comment_id).map(|d| d.id),
                        a.decision_id,
                        deciding.map(|d| d.id)
                    ));
                }
            }
            AppealStatus::Upheld | AppealStatus::Reversed | AppealStatus::Withdrawn => {
                let Some(d) = deciding else {
                    problems.push(format!(
                        "appeal {} is {} without a decision",
                        a.id, a.status
                    ));
                    continue;
                };
                // An erasure withdraws the appeal of the author it erases.
                let outcome = if a.status == AppealStatus::Withdrawn {
                    AppealStatus::Withdrawn
                } else if d.action == DecidedAction::Approve {
                    AppealStatus::Reversed
                } else {
                    AppealStatus::Upheld
                };
                let told = events_of(a.comment_id)
                    .iter()
                    .filter(|e| e.event_type == EventType::CommentAppealDecided)
                    .filter(|e| payload(e)["data"]["appeal_id"] == a.id.to_string())
                    .count();
                if a.status != outcome || told != 1 {
                    problems.push(format!(
                        "appeal {} is {} after decision {} ({}), told {told} times",
                        a.id, a.status, d.id, d.action
                    ));
                }
            }
        }
    }
    for c in comments.values().filter(|c| c.appeal_open) {
        let open = appeals
            .iter()
            .filter(|a| a.comment_id == c.id && a.status == AppealStatus::Open)
            .count();
        if open != 1 {
            problems.push(format!(
                "comment {} has appeal_open but {open} open appeals",
                c.id
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(run.fail(format!(
            "the database breaks the integrity rules:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// Rule 1, through the API: a service token sees a comment as visible only when it is, on both
/// replicas (once their caches may have expired), and the article counts what it sees.
async fn check_threads(run: &Run<'_>) -> Result<(), String> {
    run.apps[0].clock.advance(chrono::Duration::seconds(2));
    let comments = case_comments(run).await?;
    let visible = comments
        .values()
        .filter(|c| c.status == CommentStatus::Visible)
        .count();
    let mut problems = Vec::new();
    for on in [On::A, On::B] {
        let app = run.app(on);
        let mut paths = vec![format!(
            "/api/v1/articles/{}/comments?limit=100",
            run.article
        )];
        paths.extend(
            comments
                .values()
                .filter(|c| comments.values().any(|r| r.parent_id == Some(c.id)))
                .map(|c| format!("/api/v1/comments/{}/replies?limit=100", c.id)),
        );
        for path in paths {
            let (status, body) = app.get(&path).await;
            if status != 200 {
                problems.push(format!("[{on:?}] GET {path} answered {status} {body}"));
                continue;
            }
            if path.contains("/articles/") {
                let counted = body["article"]["comment_count"].as_u64();
                if counted != Some(visible as u64) {
                    problems.push(format!(
                        "[{on:?}] the article counts {counted:?} comments, {visible} are visible"
                    ));
                }
            }
            for shown in body["comments"].as_array().into_iter().flatten() {
                let id: i64 = shown["id"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
                    .unwrap_or(-1);
                let stored = comments.get(&id);
                let stored_visible = stored.is_some_and(|c| c.status == CommentStatus::Visible);
                let shows_content = !shown["body"].is_null() || !shown["author"].is_null();
                if (shown["status"] == "visible" || shows_content) && !stored_visible {
                    problems.push(format!(
                        "[{on:?}] GET {path} shows {shown} but the comment is {:?}",
                        stored.map(|c| c.status)
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(run.fail(format!(
            "the threads show what they may not:\n  {}",
            problems.join("\n  ")
        )))
    }
}
