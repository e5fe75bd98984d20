//! Erasing one author touches only what is theirs, found by the columns that name them: every
//! byte of every other author's rows stays as it was, even when the erased id is a string that
//! other rows hold as a value (`7` inside `17`, `hidden` and `visible` as statuses, `a1` beside
//! `A1`). And what waited for a decision on their comments is settled like any decision: the
//! flags with a decision and a `flag.decided` event each, an open appeal withdrawn.

use std::collections::{BTreeMap, BTreeSet};

use comment_service::entity::{
    appeal, author, comment, decision, event, flag, idempotency_key, moderation_log, notification,
};
use reqwest::{Method, StatusCode};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::{Db, SERVICE_TOKEN, TestApp, app_with_events, json_of};
use crate::on_both_databases;

/// Ids other rows hold as values, or as the same letters in another case.
const AUTHORS: [&str; 6] = ["7", "17", "hidden", "visible", "a1", "A1"];

/// Every row of the tables that hold something of an author.
#[derive(Debug)]
struct World {
    comments: Vec<comment::Model>,
    flags: Vec<flag::Model>,
    events: Vec<event::Model>,
    keys: Vec<idempotency_key::Model>,
    appeals: Vec<appeal::Model>,
    decisions: Vec<decision::Model>,
    log: Vec<moderation_log::Model>,
    authors: Vec<author::Model>,
    notifications: Vec<notification::Model>,
}

async fn world(db: &DatabaseConnection) -> World {
    World {
        comments: comment::Entity::find().all(db).await.unwrap(),
        flags: flag::Entity::find().all(db).await.unwrap(),
        // The senders work on in the background: what they write of a delivery is theirs.
        events: event::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|e| event::Model {
                status: comment_service::domain::states::EventStatus::Pending,
                attempts: 0,
                next_attempt_at: e.created_at,
                lease: None,
                locked_until: None,
                delivered_at: None,
                last_error: None,
                ..e
            })
            .collect(),
        keys: idempotency_key::Entity::find().all(db).await.unwrap(),
        appeals: appeal::Entity::find().all(db).await.unwrap(),
        decisions: decision::Entity::find().all(db).await.unwrap(),
        log: moderation_log::Entity::find().all(db).await.unwrap(),
        authors: author::Entity::find().all(db).await.unwrap(),
        notifications: notification::Entity::find()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|n| notification::Model {
                status: comment_service::domain::states::NotificationStatus::Pending,
                attempts: 0,
                next_attempt_at: n.created_at,
                locked_until: None,
                sent_at: None,
                last_error: None,
                lease_token: None,
                lease_owner: None,
                ..n
            })
            .collect(),
    }
}

/// Checks that each row of `before` that is not `erased`'s (by the columns that name its
/// author, or its comment's) is in `after` byte for byte.
fn others_unchanged(before: &World, after: &World, erased: &str) {
    let theirs: BTreeSet<i64> = before
        .comments
        .iter()
        .filter(|c| c.author_id == erased)
        .map(|c| c.id)
        .collect();
    let flagged_with_note: BTreeSet<i64> = before
        .flags
        .iter()
        .filter(|f| f.reporter_id == erased && f.note.is_some())
        .map(|f| f.comment_id)
        .collect();
    let streams: BTreeSet<String> = theirs
        .iter()
        .map(|id| format!("comment:{id}"))
        .chain([format!("author:{erased}")])
        .collect();
    fn check<M: std::fmt::Debug + PartialEq, K: Ord + std::fmt::Debug>(
        table: &str,
        before: &[M],
        after: &[M],
        key: impl Fn(&M) -> K,
        is_theirs: impl Fn(&M) -> bool,
    ) -> usize {
        let after: BTreeMap<K, &M> = after.iter().map(|m| (key(m), m)).collect();
        let mut kept = 0;
        for row in before.iter().filter(|m| !is_theirs(m)) {
            let now = after.get(&key(row));
            assert_eq!(now, Some(&row), "{table}: a row of another author changed");
            kept += 1;
        }
        kept
    }
    let mut kept = 0;
    kept += check(
        "comments",
        &before.comments,
        &after.comments,
        |c| c.id,
        |c| theirs.contains(&c.id),
    );
    kept += check(
        "flags",
        &before.flags,
        &after.flags,
        |f| f.id,
        |f| f.reporter_id == erased || theirs.contains(&f.comment_id),
    );
    kept += check(
        "events",
        &before.events,
        &after.events,
        |e| e.id,
        |e| streams.contains(&e.stream),
    );
    kept += check(
        "idempotency_keys",
        &before.keys,
        &after.keys,
        |k| (k.caller.clone(), k.key.clone()),
        |k| k.author_id.as_deref() == Some(erased),
    );
    kept += check(
        "appeals",
        &before.appeals,
        &after.appeals,
        |a| a.id,
        |a| a.author_id == erased || theirs.contains(&a.comment_id),
    );
    kept += check(
        "decisions",
        &before.decisions,
        &after.decisions,
        |d| d.id,
        |d| theirs.contains(&d.comment_id),
    );
    kept += check(
        "moderation_log",
        &before.log,
        &after.log,
        |l| l.id,
        |l| {
            l.author_id.as_deref() == Some(erased)
                || l.comment_id.is_some_and(|c| theirs.contains(&c))
        },
    );
    kept += check(
        "authors",
        &before.authors,
        &after.authors,
        |a| a.id.clone(),
        |a| a.id == erased,
    );
    // A mail about another's comment quotes the notes of its flags: the erased reporter's note
    // is wiped from it, and nothing else.
    kept += check(
        "notifications",
        &before.notifications,
        &after.notifications,
        |n| n.id,
        |n| theirs.contains(&n.comment_id) || flagged_with_note.contains(&n.comment_id),
    );
    assert!(kept > 50, "the other authors' rows: {kept}");
}

async fn post(app: &TestApp, author: &str, body: &str, key: Option<&str>) -> String {
    let mut request = app
        .client
        .post(format!("{}/api/v1/articles/a1/comments", app.address))
        .bearer_auth(SERVICE_TOKEN)
        .json(&json!({"author": {"id": author, "name": format!("Name {author}")}, "body": body}));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let (status, value) = json_of(request.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    value["id"].as_str().unwrap().to_owned()
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Value, moderator: bool) -> Value {
    let (status, value) = if moderator {
        app.call_as_moderator(method, path, Some(body)).await
    } else {
        app.call(method, path, Some(body)).await
    };
    assert!(status.is_success(), "{path}: {status} {value}");
    value
}

/// Each author: a keyed post and a plain one, two status changes, the plain one hidden, an
/// appeal against that, and a flag with a note on the next author's keyed post.
async fn populate(app: &TestApp) -> BTreeMap<&'static str, (String, String)> {
    app.put_recent_article("a1", None).await;
    let mut posts = BTreeMap::new();
    for author in AUTHORS {
        let keyed = post(
            app,
            author,
            &format!("Beitrag von {author}"),
            Some(&format!("k-{author}")),
        )
        .await;
        let plain = post(app, author, &format!("Noch einer von {author}"), None).await;
        let path = format!("/api/v1/authors/{author}/status");
        ok(app, Method::PUT, &path, json!({"status": "premod"}), true).await;
        ok(app, Method::PUT, &path, json!({"status": "active"}), true).await;
        let decide = format!("/api/v1/comments/{plain}/moderation");
        ok(
            app,
            Method::POST,
            &decide,
            json!({"action": "hide", "ground": "terms", "category": "insult"}),
            true,
        )
        .await;
        posts.insert(author, (keyed, plain));
    }
    for (i, author) in AUTHORS.iter().enumerate() {
        let next = AUTHORS[(i + 1) % AUTHORS.len()];
        let target = &posts[next].0;
        let flags = format!("/api/v1/comments/{target}/flags");
        let body = json!({"reporter": {"id": author}, "reason": "abuse", "note": format!("Notiz von {author}")});
        ok(app, Method::POST, &flags, body, false).await;
        let plain = &posts[author].1;
        let appeal = format!("/api/v1/comments/{plain}/appeal");
        let body = json!({"author_id": author, "text": format!("Einspruch von {author}")});
        ok(app, Method::POST, &appeal, body, false).await;
    }
    posts
}

async fn erase(app: &TestApp, author: &str) -> Value {
    let (status, body) = app.delete(&format!("/api/v1/authors/{author}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn erasing_one_author_leaves_every_other_authors_rows_unchanged(db: Db) {
    let app = app_with_events(db).await;
    populate(&app).await;
    for erased in ["7", "hidden", "visible", "a1"] {
        let before = world(&app.db).await;
        let counts = erase(&app, erased).await;
        assert_eq!(counts["comments"], 2, "{erased}: {counts}");
        assert_eq!(counts["flags"], 1, "{erased}: {counts}");
        let after = world(&app.db).await;
        others_unchanged(&before, &after, erased);
        // What was theirs is gone: no author record, no stored answer, no comment, appeal or
        // event stream under their id.
        assert!(after.authors.iter().all(|a| a.id != erased));
        assert!(
            after
                .keys
                .iter()
                .all(|k| k.author_id.as_deref() != Some(erased))
        );
        assert!(after.comments.iter().all(|c| c.author_id != erased));
        assert!(after.appeals.iter().all(|a| a.author_id != erased));
        assert!(
            after
                .events
                .iter()
                .all(|e| e.stream != format!("author:{erased}"))
        );
    }
    // The others' keyed posts still answer a retry with their first response.
    for author in ["17", "A1"] {
        let again = post(
            &app,
            author,
            &format!("Beitrag von {author}"),
            Some(&format!("k-{author}")),
        )
        .await;
        let keyed = comment::Entity::find_by_id(again.parse::<i64>().unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            keyed.author_id, author,
            "a retry of {author}'s post is its first answer"
        );
        let theirs = comment::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.author_id == author)
            .count();
        assert_eq!(theirs, 2, "{author}'s retry posted nothing new");
    }
}

async fn an_erasure_settles_flags_and_appeals_with_a_decision_and_its_events(db: Db) {
    let app = app_with_events(db).await;
    let posts = populate(&app).await;
    let (flagged, appealed) = (&posts["7"].0, &posts["7"].1);
    let flag_id = flag::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.comment_id.to_string() == *flagged)
        .expect("the flag on 7's post")
        .id;
    erase(&app, "7").await;

    let (status, told) = app.get(&format!("/api/v1/flags/{flag_id}")).await;
    assert_eq!(status, StatusCode::OK, "{told}");
    assert_eq!(told["status"], "decided", "{told}");
    assert_eq!(told["decision"]["action"], "delete", "{told}");
    let settled = flag::Entity::find_by_id(flag_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let decision = decision::Entity::find_by_id(settled.decision_id.expect("a decision"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(decision.comment_id.to_string(), *flagged);
    let events = event::Entity::find().all(&app.db).await.unwrap();
    let decided: Vec<Value> = events
        .iter()
        .filter(|e| e.stream == format!("comment:{flagged}"))
        .map(|e| serde_json::from_str::<Value>(&e.payload).unwrap())
        .filter(|body| body["type"] == "flag.decided")
        .collect();
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(decided[0]["data"]["flag_id"], flag_id.to_string());
    assert_eq!(decided[0]["data"]["decision"]["action"], "delete");
    assert!(
        decided[0]["id"].as_str().unwrap().starts_with("evt_"),
        "{}",
        decided[0]
    );

    let appeals = appeal::Entity::find().all(&app.db).await.unwrap();
    let withdrawn = appeals
        .iter()
        .find(|a| a.comment_id.to_string() == *appealed)
        .expect("7's appeal");
    assert_eq!(withdrawn.status.as_str(), "withdrawn");
    assert!(withdrawn.decided_at.is_some());
    let outcome: Vec<Value> = events
        .iter()
        .filter(|e| e.stream == format!("comment:{appealed}"))
        .map(|e| serde_json::from_str::<Value>(&e.payload).unwrap())
        .filter(|body| body["type"] == "comment.appeal_decided")
        .collect();
    assert_eq!(outcome.len(), 1, "{outcome:?}");
    assert_eq!(outcome[0]["data"]["outcome"], "withdrawn");
    // Nothing of theirs is left waiting in the queue.
    let (_, queue) = app
        .get_as_moderator("/api/v1/moderation/queue?kind=appeal")
        .await;
    let waiting: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["comment"]["id"].as_str().unwrap())
        .collect();
    assert!(!waiting.contains(&appealed.as_str()), "{waiting:?}");
    assert!(!waiting.contains(&flagged.as_str()), "{waiting:?}");
}

/// An id erased once, who flags the same comment again and is erased again: both erasures
/// answer 200, and the comment keeps one open flag under the pseudonym, counted once.
async fn a_reporter_erased_twice_who_flagged_one_comment_twice_is_erased(db: Db) {
    let app = app_with_events(db).await;
    app.put_recent_article("a1", None).await;
    let target = post(&app, "u-autor", "Gemeldet", None).await;
    let flags = format!("/api/v1/comments/{target}/flags");
    for _ in 0..2 {
        let body = json!({"reporter": {"id": "u-leser"}, "reason": "spam"});
        ok(&app, Method::POST, &flags, body, false).await;
        erase(&app, "u-leser").await;
    }
    let open: Vec<flag::Model> = flag::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.comment_id.to_string() == target && f.resolved_at.is_none())
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0].reporter_id.starts_with("anon-"), "{open:?}");
    let comment = comment::Entity::find_by_id(target.parse::<i64>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(comment.flag_count, 1);
}

on_both_databases!(
    a_reporter_erased_twice_who_flagged_one_comment_twice_is_erased,
    erasing_one_author_leaves_every_other_authors_rows_unchanged,
    an_erasure_settles_flags_and_appeals_with_a_decision_and_its_events,
);
