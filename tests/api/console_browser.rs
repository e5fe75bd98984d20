//! The console in a real headless Chromium: a moderator signs in through the form and works the
//! queue with the keyboard only; the API, the audit log, the events and the log page then show
//! exactly what was decided, by whom and how. Each step is a function of its own, so pages still
//! to come (an author's page, an article's settings) add their steps to the same walk.
//!
//! `CONSOLE_SCREENSHOTS=docs` saves the queue and a comment in context as PNGs into `docs/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use fantoccini::key::Key;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{Db, MODERATOR_TOKEN, TestApp, app_with_events_and, queued_ids};
use crate::on_both_databases;

on_both_databases!(a_moderator_signs_in_and_works_the_queue_with_the_keyboard_only);

/// The name the moderator signs in with: the audit log and the events name it.
const MODERATOR: &str = "Berta";
/// The tab the walk works: every flagged comment, the held ones first.
const TAB: &str = "flagged";

/// A comment put into the queue: its status before any decision and its flags.
struct Seeded {
    id: String,
    status: String,
    flags: usize,
    /// The comment it answers (for the page of a comment in context).
    parent: Option<String>,
}

/// A decision made in the browser.
struct Decided {
    id: String,
    action: &'static str,
    /// The statement of reasons typed in (hide, delete).
    statement: Option<Statement>,
}

struct Statement {
    ground: &'static str,
    category: &'static str,
    explanation: &'static str,
}

async fn a_moderator_signs_in_and_works_the_queue_with_the_keyboard_only(db: Db) {
    let test = "a_moderator_signs_in_and_works_the_queue_with_the_keyboard_only";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    // One run writes the pictures: the SQLite one.
    let screenshots = screenshot_dir().filter(|_| matches!(db, Db::Sqlite));
    let app = app_with_events_and(db, &[("FLAG_HIDE_THRESHOLD", "2".to_string())]).await;
    let seeded = seed_queue(&app, 20).await;
    let events_before = event_ids(&app).await;

    sign_in(&browser, &app, MODERATOR).await;
    let page = open_tab(&browser, &app, TAB).await;
    assert_eq!(page.len(), seeded.len(), "every seeded comment is flagged");
    browser.press("j").await;
    browser
        .screenshot(screenshots.as_deref(), "console-queue.png")
        .await;
    the_key_list_opens_and_closes(&browser).await;

    let mut decided = Vec::new();
    for moves in ["jjk", "jjj", "j"] {
        decided.push(approve(&browser, moves).await);
    }
    decided.push(
        hide_with_statement(
            &browser,
            &app,
            "jjjjj",
            Statement {
                ground: "terms",
                category: "threat",
                explanation: "Droht einem anderen Leser.",
            },
        )
        .await,
    );

    the_api_shows_the_decisions(&app, &browser, &seeded, &decided).await;
    the_audit_log_names_the_moderator_and_the_console(&app, &decided).await;
    the_events_are_those_of_the_decisions(&app, &seeded, &decided, &events_before).await;
    the_log_page_lists_the_decisions(&browser, &app, &decided).await;
    let reply = seeded
        .iter()
        .find(|s| s.parent.is_some() && !decided.iter().any(|d| d.id == s.id))
        .expect("a reply still in the queue");
    a_comment_in_context(&browser, &app, reply, screenshots.as_deref()).await;
    browser.quit().await;
}

/// Where `CONSOLE_SCREENSHOTS` says the pictures go (relative to the crate).
fn screenshot_dir() -> Option<PathBuf> {
    let dir = std::env::var("CONSOLE_SCREENSHOTS").ok()?;
    (!dir.is_empty()).then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir))
}

/// Two articles and `n` comments (some of them replies), each flagged once or, every third,
/// twice: the flag threshold of 2 holds those.
async fn seed_queue(app: &TestApp, n: usize) -> Vec<Seeded> {
    let published = (app.clock.now() - chrono::Duration::hours(5)).to_rfc3339();
    let articles = [
        (
            "wien-u5",
            "Neue U-Bahn-Linie U5: Erste Testfahrten im Frühjahr",
        ),
        ("nr-wahl", "Nationalratswahl: Was die Umfragen jetzt zeigen"),
    ];
    for (id, title) in articles {
        let (status, body) = app
            .put_json(
                &format!("/api/v1/articles/{id}"),
                json!({"title": title, "url": format!("https://www.krone.at/{id}"),
                       "topic": null, "published_at": published}),
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
    }
    let bodies = [
        "Das glaubt doch kein Mensch, die Zahlen sind frei erfunden.",
        "Wer so etwas schreibt, hat keine Ahnung und sollte still sein.",
        "Billige Uhren und Taschen, nur heute, schreiben Sie mir!",
        "Mit dem Artikel hat das nichts zu tun, aber das Wetter ist schön.",
        "Ihr seid alle gekauft, jeder einzelne in der Redaktion.",
    ];
    let reasons = [
        ("misinformation", "Falsche Zahlen"),
        ("abuse", "beleidigend"),
        ("spam", "Werbung"),
        ("off_topic", "hat nichts mit dem Thema zu tun"),
    ];
    let mut parents = BTreeMap::new();
    for (n, (article, _)) in articles.iter().enumerate() {
        let author = format!("leserin-{n}");
        let id = post(
            app,
            article,
            &author,
            "Leserin Anna",
            "Endlich tut sich etwas.",
            None,
        )
        .await;
        parents.insert(*article, id);
    }
    let mut seeded = Vec::new();
    for i in 0..n {
        let article = articles[i % 2].0;
        let parent = (i % 4 == 1).then(|| parents[article].clone());
        let author = format!("leser-{}", i + 1);
        let name = format!("Leser {}", i + 1);
        let body = format!("{} ({})", bodies[i % bodies.len()], i + 1);
        let id = post(app, article, &author, &name, &body, parent.as_deref()).await;
        let flags = if i % 3 == 0 { 2 } else { 1 };
        for f in 0..flags {
            let (reason, note) = reasons[(i + f) % reasons.len()];
            let (status, body) = app
                .post_json(
                    &format!("/api/v1/comments/{id}/flags"),
                    json!({"reporter": {"id": format!("melder-{i}-{f}")}, "reason": reason, "note": note}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (_, comment) = app
            .get_as_moderator(&format!("/api/v1/comments/{id}"))
            .await;
        let status = comment["status"].as_str().expect("a status").to_string();
        seeded.push(Seeded {
            id,
            status,
            flags,
            parent,
        });
    }
    let held = seeded
        .iter()
        .filter(|s| s.status == "pending_review")
        .count();
    assert_eq!(held, n.div_ceil(3), "two flags hold a comment");
    seeded
}

async fn post(
    app: &TestApp,
    article: &str,
    author: &str,
    name: &str,
    body: &str,
    parent: Option<&str>,
) -> String {
    let (status, value) = app
        .post_json(
            &format!("/api/v1/articles/{article}/comments"),
            json!({"author": {"id": author, "name": name}, "body": body, "parent_id": parent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    value["id"].as_str().expect("id").to_string()
}

/// Signs in through the login form, typing into its fields; lands on the queue.
async fn sign_in(browser: &Browser, app: &TestApp, name: &str) {
    browser
        .goto(&format!("{}/console/queue", app.address))
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/console/login", "not signed in: the login");
    browser
        .eval("document.querySelector('input[name=name]').focus(); return true")
        .await;
    browser.press(name).await;
    browser.press(&char::from(Key::Tab).to_string()).await;
    browser.press(MODERATOR_TOKEN).await;
    browser.press(&char::from(Key::Enter).to_string()).await;
    browser
        .until(
            "the queue after signing in",
            "return location.pathname === '/console/queue' && document.readyState === 'complete'",
        )
        .await;
    assert_eq!(browser.text(".who").await, name);
}

/// The `data-comment-id`s of the items on the page, in order.
const ITEM_IDS: &str = "return Array.from(document.querySelectorAll('.item[data-comment-id]')).map(e => e.dataset.commentId)";

fn strings(value: Value) -> Vec<String> {
    serde_json::from_value(value).expect("a list of strings")
}

/// Opens a tab of the queue; its items are the API's queue of that kind, in the API's order.
async fn open_tab(browser: &Browser, app: &TestApp, tab: &str) -> Vec<String> {
    browser
        .goto(&format!("{}/console/queue?tab={tab}", app.address))
        .await;
    let page = strings(browser.eval(ITEM_IDS).await);
    assert_eq!(
        page,
        api_queue(app, tab).await,
        "the page is the API's queue"
    );
    page
}

async fn api_queue(app: &TestApp, kind: &str) -> Vec<String> {
    let (status, queue) = app
        .get_as_moderator(&format!("/api/v1/moderation/queue?kind={kind}&limit=100"))
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    queued_ids(&queue).into_iter().map(str::to_string).collect()
}

/// `?` shows the list of keys over the page, `Escape` closes it.
async fn the_key_list_opens_and_closes(browser: &Browser) {
    let shown = "return !document.getElementById('keys').hidden";
    assert_eq!(browser.eval(shown).await, false);
    browser.press("?").await;
    assert_eq!(browser.eval(shown).await, true, "? opens the list");
    let list = browser.text("#keys").await;
    for key in ["j", "k", "a", "h", "d", "Enter", "Esc", "?"] {
        assert!(list.lines().any(|l| l.trim() == key), "{key} in {list}");
    }
    let keys = browser
        .client
        .find(fantoccini::Locator::Id("keys"))
        .await
        .unwrap();
    assert!(keys.is_displayed().await.unwrap());
    browser.press(&char::from(Key::Escape).to_string()).await;
    assert_eq!(browser.eval(shown).await, false, "Escape closes it");
}

/// The item `moves` (j and k) select, checked to be the one the keys mean: j the next, k the
/// previous, the first after j on a page where none is selected.
async fn select_by_keys(browser: &Browser, moves: &str) -> String {
    let page = strings(browser.eval(ITEM_IDS).await);
    let mut expected = browser
        .eval(
            "return Array.from(document.querySelectorAll('.item[data-comment-id]'))\
             .findIndex(e => e.classList.contains('current'))",
        )
        .await
        .as_i64()
        .unwrap();
    browser.press(moves).await;
    for key in moves.chars() {
        expected += if key == 'j' { 1 } else { -1 };
        expected = expected.clamp(0, page.len() as i64 - 1);
    }
    let current = browser
        .eval(
            "const c = document.querySelectorAll('.item.current'); \
             return c.length === 1 && c[0] === document.activeElement ? c[0].dataset.commentId : null",
        )
        .await;
    assert_eq!(
        current.as_str(),
        Some(page[expected as usize].as_str()),
        "{moves}: one item selected and focused"
    );
    page[expected as usize].clone()
}

/// Waits for the queue to come back without `id` after a decision.
async fn back_in_the_queue_without(browser: &Browser, id: &str) -> Vec<String> {
    let script = format!(
        "return document.readyState === 'complete' && location.pathname === '/console/queue' \
         && !document.querySelector('.item[data-comment-id=\"{id}\"]') && true"
    );
    browser
        .until(&format!("the queue without {id}"), &script)
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some(format!("tab={TAB}").as_str()),
        "back in the tab"
    );
    strings(browser.eval(ITEM_IDS).await)
}

/// Selects an item with `moves` and approves it with `a`: at once, no statement needed.
async fn approve(browser: &Browser, moves: &str) -> Decided {
    let id = select_by_keys(browser, moves).await;
    let before = strings(browser.eval(ITEM_IDS).await);
    browser.press("a").await;
    let after = back_in_the_queue_without(browser, &id).await;
    let expected: Vec<String> = before.into_iter().filter(|i| *i != id).collect();
    assert_eq!(after, expected, "only {id} left the queue");
    Decided {
        id,
        action: "approve",
        statement: None,
    }
}

/// Selects an item with `moves` and presses `h`: the statement of reasons opens and nothing is
/// decided yet; the moderator picks the ground and category by typing, writes the explanation
/// and confirms with Ctrl+Enter.
async fn hide_with_statement(
    browser: &Browser,
    app: &TestApp,
    moves: &str,
    statement: Statement,
) -> Decided {
    let id = select_by_keys(browser, moves).await;
    let (_, comment) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    browser.press("h").await;
    let opened = browser
        .eval(&format!(
            "const item = document.querySelector('.item[data-comment-id=\"{id}\"]'); \
             return item.querySelector('details').open \
                 && document.activeElement === document.getElementById('ground-{id}')"
        ))
        .await;
    assert_eq!(
        opened, true,
        "h opens the statement and puts the cursor on the ground"
    );
    let (_, unchanged) = app
        .get_as_moderator(&format!("/api/v1/comments/{id}"))
        .await;
    assert_eq!(
        unchanged["status"], comment["status"],
        "nothing decided yet"
    );

    let label = |select: &str, value: &str| {
        format!(
            "return Array.from(document.getElementById('{select}-{id}').options)\
             .find(o => o.value === '{value}').textContent"
        )
    };
    let tab = char::from(Key::Tab).to_string();
    let ground = browser.eval(&label("ground", statement.ground)).await;
    browser.press(ground.as_str().unwrap()).await;
    browser.press(&tab).await;
    let category = browser.eval(&label("category", statement.category)).await;
    browser.press(category.as_str().unwrap()).await;
    browser.press(&tab).await; // the legal reference
    browser.press(&tab).await; // the explanation
    browser.press_with(Key::Control, 'a').await;
    browser.press(statement.explanation).await;
    let chosen = browser
        .eval(&format!(
            "return [document.getElementById('ground-{id}').value, \
                     document.getElementById('category-{id}').value]"
        ))
        .await;
    assert_eq!(
        chosen,
        json!([statement.ground, statement.category]),
        "typed into the selects"
    );
    browser
        .press_with(Key::Control, char::from(Key::Enter))
        .await;
    back_in_the_queue_without(browser, &id).await;
    Decided {
        id,
        action: "hide",
        statement: Some(statement),
    }
}

/// Each decided comment has its new status and the hidden one the statement typed in; the
/// queue is the page's, without them.
async fn the_api_shows_the_decisions(
    app: &TestApp,
    browser: &Browser,
    seeded: &[Seeded],
    decided: &[Decided],
) {
    for d in decided {
        let (_, comment) = app
            .get_as_moderator(&format!("/api/v1/comments/{}", d.id))
            .await;
        let expected = if d.action == "approve" {
            "visible"
        } else {
            "hidden"
        };
        assert_eq!(comment["status"], expected, "{}: {comment}", d.action);
        if let Some(s) = &d.statement {
            let (status, body) = app
                .get(&format!("/api/v1/comments/{}/decision", d.id))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["action"], d.action);
            assert_eq!(body["ground"], s.ground);
            assert_eq!(body["category"], s.category);
            assert_eq!(body["explanation"], s.explanation);
            assert_eq!(body["automated"], false);
        }
    }
    let queue = api_queue(app, TAB).await;
    assert_eq!(queue.len(), seeded.len() - decided.len());
    assert!(decided.iter().all(|d| !queue.contains(&d.id)));
    assert_eq!(strings(browser.eval(ITEM_IDS).await), queue);
}

/// One audit-log entry per decision, naming the moderator and the console, and no other.
async fn the_audit_log_names_the_moderator_and_the_console(app: &TestApp, decided: &[Decided]) {
    let (status, log) = app
        .get_as_moderator("/api/v1/moderation/log?limit=100")
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log["entries"].as_array().unwrap();
    let logged: BTreeSet<(String, String, String, String)> = entries
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap_or_default().to_string();
            (
                field("comment_id"),
                field("action"),
                field("moderator"),
                field("via"),
            )
        })
        .collect();
    let expected: BTreeSet<_> = decided
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                d.action.to_string(),
                MODERATOR.to_string(),
                "console".to_string(),
            )
        })
        .collect();
    assert_eq!(logged, expected, "{log}");
    assert_eq!(entries.len(), decided.len(), "{log}");
}

/// Every event since the seeding, by id.
async fn event_ids(app: &TestApp) -> BTreeSet<String> {
    all_events(app)
        .await
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

async fn all_events(app: &TestApp) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get_as_moderator(&format!("/api/v1/events?limit=100{cursor}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return events,
        }
    }
}

/// The events written since the seeding are exactly the decisions': a status event where the
/// status changed (a held comment approved, a visible one hidden) and a `flag.decided` per flag.
async fn the_events_are_those_of_the_decisions(
    app: &TestApp,
    seeded: &[Seeded],
    decided: &[Decided],
    before: &BTreeSet<String>,
) {
    let new: Vec<Value> = all_events(app)
        .await
        .into_iter()
        .filter(|e| !before.contains(e["id"].as_str().unwrap()))
        .collect();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for d in decided {
        let s = seeded.iter().find(|s| s.id == d.id).unwrap();
        let (target, event) = match d.action {
            "approve" => ("visible", "comment.approved"),
            _ => ("hidden", "comment.hidden"),
        };
        let types = expected.entry(d.id.clone()).or_default();
        if s.status != target {
            types.push(event.to_string());
        }
        types.extend(std::iter::repeat_n("flag.decided".to_string(), s.flags));
        types.sort();
    }
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &new {
        let comment = e["data"]["comment_id"].as_str().unwrap().to_string();
        if e["type"] == "flag.decided" {
            let d = decided.iter().find(|d| d.id == comment).unwrap();
            assert_eq!(e["data"]["decision"]["action"], d.action, "{e}");
        }
        seen.entry(comment)
            .or_default()
            .push(e["type"].as_str().unwrap().to_string());
    }
    seen.values_mut().for_each(|types| types.sort());
    assert_eq!(seen, expected);
}

/// The console's log page lists each decision with the moderator, the action and the way.
async fn the_log_page_lists_the_decisions(browser: &Browser, app: &TestApp, decided: &[Decided]) {
    browser.goto(&format!("{}/console/log", app.address)).await;
    let rows = browser
        .eval(
            "return Array.from(document.querySelectorAll('tbody tr'))\
             .map(r => Array.from(r.cells).map(c => c.textContent.trim()))",
        )
        .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    let header = browser
        .eval("return Array.from(document.querySelectorAll('thead th')).map(c => c.textContent)")
        .await;
    let column = |name: &str| {
        header
            .as_array()
            .unwrap()
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("a column {name}: {header}"))
    };
    let (who, action, via, comment) = (
        column("Wer"),
        column("Aktion"),
        column("Weg"),
        column("Kommentar"),
    );
    let listed: BTreeSet<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[comment].clone(),
                r[action].clone(),
                r[who].clone(),
                r[via].clone(),
            )
        })
        .collect();
    let expected: BTreeSet<_> = decided
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                // The log shows actions and ways in German.
                match d.action.to_string().as_str() {
                    "approve" => "Freigabe",
                    "hide" => "Ausblendung",
                    "delete" => "Löschung",
                    other => panic!("no label for {other}"),
                }
                .to_string(),
                MODERATOR.to_string(),
                "Konsole".to_string(),
            )
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(rows.len(), decided.len());
}

/// A reply's page shows the comment it answers, the comment, its flags and the decision form.
async fn a_comment_in_context(
    browser: &Browser,
    app: &TestApp,
    reply: &Seeded,
    screenshots: Option<&std::path::Path>,
) {
    browser
        .goto(&format!("{}/console/comments/{}", app.address, reply.id))
        .await;
    let parent = reply.parent.as_deref().unwrap();
    let (_, parent_view) = app
        .get_as_moderator(&format!("/api/v1/comments/{parent}"))
        .await;
    let (_, view) = app
        .get_as_moderator(&format!("/api/v1/comments/{}", reply.id))
        .await;
    assert_eq!(
        browser.text(".parent blockquote").await,
        parent_view["body"].as_str().unwrap()
    );
    assert_eq!(
        browser.text(".item blockquote").await,
        view["body"].as_str().unwrap()
    );
    let buttons = strings(
        browser
            .eval("return Array.from(document.querySelectorAll('form.decision button')).map(b => b.value)")
            .await,
    );
    assert_eq!(buttons, ["approve", "hide", "delete"]);
    browser.screenshot(screenshots, "console-comment.png").await;
}
