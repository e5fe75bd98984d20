//! Personal data (GDPR): the export holds everything about an author and streams it; the erasure
//! leaves no trace of the author in any table (searched through the database catalog), keeps
//! threads whole, is idempotent and names the author by a pseudonym that survives restarts.

use comment_service::store::articles::COMMENT_COUNT;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value as DbValue};
use serde_json::{Value, json};

use crate::helpers::{
    Db, MODERATOR_TOKEN, SERVICE_TOKEN, TestApp, app_with_events, assert_error, json_of,
    spawn_app_on, spawn_app_with,
};
use crate::on_both_databases;

const AUTHOR: &str = "u-erase-7f3a";
const NAME: &str = "Zora Quintessa";

async fn post_as(
    app: &TestApp,
    article: &str,
    author: &str,
    name: &str,
    body: &str,
    parent: Option<&str>,
) -> Value {
    let (status, value) = app
        .post_json(
            &format!("/api/v1/articles/{article}/comments"),
            json!({"author": {"id": author, "name": name}, "body": body, "parent_id": parent}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    value
}

async fn flag(app: &TestApp, comment: &str, reporter: &str, note: &str) {
    let (status, body) = app
        .post_json(
            &format!("/api/v1/comments/{comment}/flags"),
            json!({"reporter": {"id": reporter}, "reason": "abuse", "note": note}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn set_status(app: &TestApp, author: &str, body: Value) {
    let path = format!("/api/v1/authors/{author}/status");
    let (status, value) = app.put_json_as_moderator(&path, body).await;
    assert_eq!(status, StatusCode::OK, "{value}");
}

async fn exec(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        values,
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(db: &DatabaseConnection, sql: &str, values: Vec<DbValue>) -> i64 {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row");
    row.try_get::<i64>("", "n").unwrap()
}

/// A decision with a statement of reasons on `comment`, and the author's appeal against it.
async fn decision_and_appeal(app: &TestApp, comment: &str, author: &str, appeal_text: &str) {
    let comment: i64 = comment.parse().unwrap();
    let now = app.clock.now();
    exec(
        &app.db,
        "INSERT INTO decisions (comment_id, action, ground, category, explanation, automated, \
         moderator, via, decided_at) VALUES ($1, 'hide', 'terms', 'insult', 'Beleidigung', $2, \
         'anna', 'api', $3)",
        vec![comment.into(), false.into(), now.into()],
    )
    .await;
    let decision = count(
        &app.db,
        "SELECT MAX(id) AS n FROM decisions WHERE comment_id = $1",
        vec![comment.into()],
    )
    .await;
    exec(
        &app.db,
        "INSERT INTO appeals (comment_id, decision_id, author_id, text, status, created_at) \
         VALUES ($1, $2, $3, $4, 'open', $5)",
        vec![
            comment.into(),
            decision.into(),
            author.into(),
            appeal_text.into(),
            now.into(),
        ],
    )
    .await;
}

/// Every (table, column) that can hold text, from the database catalog.
async fn text_columns(db: &DatabaseConnection) -> Vec<(String, String)> {
    let sql = match db.get_database_backend() {
        // SQLite keeps any value in any column: every column of every table.
        DbBackend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
        }
        _ => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND data_type IN \
             ('text', 'character varying', 'character', 'json', 'jsonb') ORDER BY 1, 2"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.try_get("", "t").unwrap(), r.try_get("", "c").unwrap()))
        .collect()
}

/// Where in the database `needle` occurs: `table.column` for each column holding it.
async fn occurrences(db: &DatabaseConnection, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column) in text_columns(db).await {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
        );
        if count(db, &sql, vec![format!("%{needle}%").into()]).await > 0 {
            found.push(format!("{table}.{column}"));
        }
    }
    found
}

async fn export(app: &TestApp, author: &str, token: &str) -> (StatusCode, String, String, Value) {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/authors/{author}/export"),
            Some(token),
            None,
        )
        .await;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, content_type, disposition, body)
}

async fn the_export_holds_everything_stored_about_the_author(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    app.put_recent_article("a1", None).await;
    let other = app
        .comment("a1", "u-other", "Ein Beitrag von jemand anderem")
        .await;
    let first = post_as(&app, "a1", AUTHOR, NAME, "Mein erster Beitrag", None).await;
    let first = first["id"].as_str().unwrap().to_owned();
    post_as(&app, "a1", AUTHOR, NAME, "Meine Antwort", Some(&other)).await;
    flag(&app, &other, AUTHOR, "Das ist beleidigend").await;
    set_status(&app, AUTHOR, json!({"status": "premod"})).await;
    let held = post_as(
        &app,
        "a1",
        AUTHOR,
        NAME,
        "Ein zurückgehaltener Beitrag",
        None,
    )
    .await;
    assert_eq!(held["status"], "pending_review");
    decision_and_appeal(&app, &first, AUTHOR, "Ich widerspreche").await;
    // Enough comments for several pages of the export (500 rows each).
    exec(
        &app.db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1100) \
         INSERT INTO comments (article_id, author_id, author_name, body, status, created_at) \
         SELECT 'a1', $1, $2, 'Massenbeitrag ' || i, 'visible', $3 FROM n",
        vec![AUTHOR.into(), NAME.into(), app.clock.now().into()],
    )
    .await;

    let (status, content_type, disposition, body) = export(&app, AUTHOR, SERVICE_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(
        disposition,
        format!("attachment; filename=\"author-{AUTHOR}.json\"")
    );
    assert_eq!(body["author_id"], AUTHOR);
    assert_eq!(body["author"]["name"], NAME);
    assert_eq!(body["author"]["status"], "premod");
    let comments = body["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1103);
    let ids: Vec<i64> = comments
        .iter()
        .map(|c| c["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "oldest first, no repeats"
    );
    assert_eq!(comments[0]["body"], "Mein erster Beitrag");
    assert_eq!(comments[1]["parent_id"], other.as_str());
    assert_eq!(comments[2]["status"], "pending_review");
    assert_eq!(comments[2]["body"], "Ein zurückgehaltener Beitrag");
    assert!(
        comments[2].get("detections").is_none(),
        "not for service tokens"
    );
    assert_eq!(comments[1102]["body"], "Massenbeitrag 1100");
    assert!(comments.iter().all(|c| c["author_name"] == NAME));
    let flags = body["flags_filed"].as_array().unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0]["comment_id"], other.as_str());
    assert_eq!(flags[0]["note"], "Das ist beleidigend");
    // The held comment's automated hold is there too; the moderator's decision on the first.
    let decisions = body["decisions"].as_array().unwrap();
    let on_first = decisions
        .iter()
        .find(|d| d["comment_id"] == first.as_str())
        .expect("the decision on the first comment");
    assert_eq!(on_first["category"], "insult");
    assert!(
        decisions
            .iter()
            .any(|d| d["action"] == "hold" && d["automated"] == true),
        "{decisions:?}"
    );
    assert_eq!(body["appeals"][0]["text"], "Ich widerspreche");
    let log = body["audit_log"].as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["action"], "author_premod");
    assert!(log[0].get("moderator").is_none(), "{log:?}");

    // Moderators may too, and see why a comment was held.
    let (status, _, _, body) = export(&app, AUTHOR, MODERATOR_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["comments"][2]["detections"][0]["rule"],
        "premod_author"
    );

    // A reader who only flagged has an export too, without an author record.
    let reader = "u-reader";
    flag(&app, &first, reader, "Das ist Spam").await;
    let (status, _, _, body) = export(&app, reader, SERVICE_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["author"], Value::Null);
    assert_eq!(body["comments"], json!([]));
    assert_eq!(body["flags_filed"].as_array().unwrap().len(), 1);

    let (status, body) = app.get("/api/v1/authors/u-unknown/export").await;
    assert_error(status, &body, 404, "not_found");
    let long = "x".repeat(129);
    let (status, body) = app.get(&format!("/api/v1/authors/{long}/export")).await;
    assert_error(status, &body, 422, "validation_failed");
    let response = app
        .request(Method::GET, "/api/v1/authors/u-1/export", None, None)
        .await;
    let (status, body) = json_of(response).await;
    assert_error(status, &body, 401, "unauthorized");
}

async fn article_counts(app: &TestApp, article: &str, parent: &str) -> (i64, i64) {
    let comments = count(
        &app.db,
        &format!("SELECT {COMMENT_COUNT} AS n FROM articles WHERE id = $1"),
        vec![article.into()],
    )
    .await;
    let replies = count(
        &app.db,
        "SELECT reply_count AS n FROM comments WHERE id = $1",
        vec![parent.parse::<i64>().unwrap().into()],
    )
    .await;
    (comments, replies)
}

async fn after_erasure_no_table_holds_the_authors_id_name_or_texts(db: Db) {
    let app = app_with_events(db).await;
    app.put_recent_article("a1", None).await;
    let texts = [
        "Erster Beitrag von Zora",
        "Zweiter Beitrag, zurückgehalten",
        "Antwort von Zora auf Yvonne",
        "Zoras Einspruch gegen die Entscheidung",
        "Zoras Meldungsnotiz zu Yvonnes Beitrag",
        "Notiz der Moderation zu Zora",
    ];
    let other = app.comment("a1", "u-yvonne", "Yvonnes Beitrag").await;
    // The first post with an Idempotency-Key: the stored answer holds the comment.
    let response = app
        .client
        .post(format!("{}/api/v1/articles/a1/comments", app.address))
        .bearer_auth(SERVICE_TOKEN)
        .header("Idempotency-Key", "zora-key-1")
        .json(&json!({"author": {"id": AUTHOR, "name": NAME}, "body": texts[0]}))
        .send()
        .await
        .unwrap();
    let (status, first) = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let first = first["id"].as_str().unwrap().to_owned();
    let reply = app
        .reply("a1", &first, "u-yvonne", "Yvonne antwortet Zora")
        .await;
    // Yvonne flags Zora's comment: the team's mail holds its text, name and id.
    flag(&app, &first, "u-yvonne", "Yvonne findet das beleidigend").await;
    // Zora flags Yvonne's comment: the mail about it quotes Zora's note.
    flag(&app, &other, AUTHOR, texts[4]).await;
    set_status(&app, AUTHOR, json!({"status": "premod"})).await;
    let held = post_as(&app, "a1", AUTHOR, NAME, texts[1], None).await;
    assert_eq!(held["status"], "pending_review");
    set_status(&app, AUTHOR, json!({"status": "active"})).await;
    post_as(&app, "a1", AUTHOR, NAME, texts[2], Some(&other)).await;
    decision_and_appeal(&app, &first, AUTHOR, texts[3]).await;
    // A moderator's note about Zora goes with her data.
    let (status, note) = app
        .post_json_as_moderator(
            &format!("/api/v1/authors/{AUTHOR}/notes"),
            json!({"text": texts[5]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let needles: Vec<&str> = [AUTHOR, NAME].iter().chain(texts.iter()).copied().collect();
    assert!(
        !occurrences(&app.db, AUTHOR).await.is_empty(),
        "the search finds what is there"
    );
    // Visible: Yvonne's comment, Zora's first, Yvonne's reply, Zora's reply.
    assert_eq!(article_counts(&app, "a1", &first).await, (4, 1));

    let (status, body) = app.delete(&format!("/api/v1/authors/{AUTHOR}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"comments": 3, "flags": 1}));

    for needle in &needles {
        let found = occurrences(&app.db, needle).await;
        assert!(found.is_empty(), "`{needle}` is still in {found:?}");
    }

    // Threads keep their shape: the reply is listed, the erased parent shows as removed.
    assert_eq!(article_counts(&app, "a1", &first).await, (2, 1));
    let (status, page) = app.get("/api/v1/articles/a1/comments?order=oldest").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().or(page["comments"].as_array());
    let items = items.unwrap_or_else(|| panic!("a list in {page}"));
    let parent = items
        .iter()
        .find(|c| c["id"] == first.as_str())
        .unwrap_or_else(|| panic!("the erased parent is still listed: {page}"));
    assert_eq!(parent["status"], "removed");
    assert_eq!(parent["body"], Value::Null);
    assert_eq!(parent["author"], Value::Null);
    let (status, replies) = app.get(&format!("/api/v1/comments/{first}/replies")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(replies.to_string().contains(&reply), "{replies}");
    assert!(replies.to_string().contains("Yvonne antwortet Zora"));

    // The audit log keeps the status changes and the note's entry under the pseudonym, and
    // logs the erasure.
    let (_, log) = app.get_as_moderator("/api/v1/moderation/log").await;
    let entries = log["entries"].as_array().or(log["items"].as_array());
    let entries = entries.unwrap_or_else(|| panic!("a list in {log}"));
    let erased = entries
        .iter()
        .find(|e| e["action"] == "author_erased")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(erased["moderator"], "web");
    let pseudonym = erased["author_id"].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("anon-"), "{pseudonym}");
    let about: Vec<&Value> = entries
        .iter()
        .filter(|e| e["author_id"] == pseudonym.as_str())
        .collect();
    assert_eq!(about.len(), 4, "{log}");

    // The website hears `author.erased` with only the pseudonym.
    let (_, events) = app.get_as_moderator("/api/v1/events?limit=100").await;
    let event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "author.erased")
        .unwrap_or_else(|| panic!("{events}"));
    assert_eq!(event["data"], json!({"author_id": pseudonym}));

    // Nothing is left to export or to see; a second erasure changes nothing.
    let (status, body) = app.get(&format!("/api/v1/authors/{AUTHOR}/export")).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = app
        .get_as_moderator(&format!("/api/v1/authors/{AUTHOR}"))
        .await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = app.delete(&format!("/api/v1/authors/{AUTHOR}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"comments": 0, "flags": 0}));
    let erasures = count(
        &app.db,
        "SELECT COUNT(*) AS n FROM moderation_log WHERE action = 'author_erased'",
        vec![],
    )
    .await;
    assert_eq!(erasures, 1, "a repeated erasure logs nothing");

    // The erased comment can never be restored.
    let (status, body) = app.decide(&first, json!({"action": "approve"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

async fn the_pseudonym_is_the_same_for_every_erasure_of_an_id_across_restarts(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    app.put_recent_article("a1", None).await;
    post_as(&app, "a1", AUTHOR, NAME, "Vor dem Neustart", None).await;
    let (status, body) = app.delete(&format!("/api/v1/authors/{AUTHOR}")).await;
    assert_eq!(body, json!({"comments": 1, "flags": 0}), "{status}");
    app.stop().await;

    let restarted = spawn_app_on(app.database.share(), &[], None).await;
    post_as(&restarted, "a1", AUTHOR, NAME, "Nach dem Neustart", None).await;
    let (_, body) = restarted.delete(&format!("/api/v1/authors/{AUTHOR}")).await;
    assert_eq!(body, json!({"comments": 1, "flags": 0}));
    let sql = "SELECT COUNT(DISTINCT author_id) AS n FROM moderation_log \
               WHERE action = 'author_erased'";
    assert_eq!(count(&restarted.db, sql, vec![]).await, 1);
    let sql = "SELECT COUNT(DISTINCT author_id) AS n FROM comments WHERE article_id = 'a1'";
    assert_eq!(count(&restarted.db, sql, vec![]).await, 1);
    let sql = "SELECT COUNT(*) AS n FROM comments c JOIN moderation_log l \
               ON l.author_id = c.author_id WHERE l.action = 'author_erased'";
    assert_eq!(count(&restarted.db, sql, vec![]).await, 4);

    // An id that is no author id at all is refused; an unknown one has nothing to erase.
    let long = "x".repeat(129);
    let (status, body) = restarted.delete(&format!("/api/v1/authors/{long}")).await;
    assert_error(status, &body, 422, "validation_failed");
    let (status, body) = restarted.delete("/api/v1/authors/u-never-seen").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"comments": 0, "flags": 0}));
}

on_both_databases!(
    the_export_holds_everything_stored_about_the_author,
    after_erasure_no_table_holds_the_authors_id_name_or_texts,
    the_pseudonym_is_the_same_for_every_erasure_of_an_id_across_restarts,
);
