//! The cached read path: writes show at once on the same process; the state is never cached.

use comment_service::config::Settings;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::articles::published_for_closing_at;
use crate::helpers::{Db, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    a_write_is_visible_to_the_very_next_read_on_the_same_process,
    a_cached_page_still_turns_closed_at_closes_at,
    lists_are_planned_once_and_other_statements_for_their_values,
);

/// Pages and reply lists read through their own pool: on PostgreSQL its connections keep one
/// (generic) plan per statement; the main pool keeps PostgreSQL's default.
async fn lists_are_planned_once_and_other_statements_for_their_values(db: Db) {
    let app = spawn_app(db).await;
    let settings =
        Settings::from_vars([("DATABASE_URL".to_string(), app.database.url.clone())]).unwrap();
    let main = comment_service::db::connect(&settings).await.unwrap();
    let lists = comment_service::db::connect_lists(&settings, &main)
        .await
        .unwrap();
    if main.get_database_backend() != DbBackend::Postgres {
        // SQLite: one pool; its connections keep their plans anyway (see `db` unit tests).
        assert_eq!(lists.get_database_backend(), DbBackend::Sqlite);
        return;
    }
    let mode = |db: sea_orm::DatabaseConnection| async move {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT current_setting('plan_cache_mode') AS mode, \
                 current_setting('search_path') AS path",
            ))
            .await
            .unwrap()
            .unwrap();
        let mode: String = row.try_get("", "mode").unwrap();
        let path: String = row.try_get("", "path").unwrap();
        (mode, path)
    };
    let (lists_mode, lists_path) = mode(lists).await;
    let (main_mode, main_path) = mode(main).await;
    assert_eq!(lists_mode, "force_generic_plan");
    assert_eq!(main_mode, "auto");
    // Both read the test's own schema.
    assert_eq!(lists_path, main_path);
}

async fn a_write_is_visible_to_the_very_next_read_on_the_same_process(db: Db) {
    let app = spawn_app(db).await;
    app.put_recent_article("a1", None).await;
    let path = "/api/v1/articles/a1/comments";
    let (_, empty) = app.call(Method::GET, path, None).await;
    assert_eq!(empty["comments"].as_array().unwrap().len(), 0);
    let id = app.comment("a1", "u1", "Erster").await;
    let (_, page) = app.call(Method::GET, path, None).await;
    assert_eq!(
        page["comments"][0]["id"],
        id.as_str(),
        "the post shows at once"
    );
    assert_eq!(page["article"]["comment_count"], 1);
    app.call(
        Method::PATCH,
        &format!("/api/v1/comments/{id}"),
        Some(serde_json::json!({"author_id": "u1", "body": "Geändert"})),
    )
    .await;
    let (_, page) = app.call(Method::GET, path, None).await;
    assert_eq!(
        page["comments"][0]["body"], "Geändert",
        "the edit shows at once"
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/comments/{id}"),
        Some(serde_json::json!({"author_id": "u1"})),
    )
    .await;
    let (_, page) = app.call(Method::GET, path, None).await;
    assert_eq!(
        page["comments"].as_array().unwrap().len(),
        0,
        "the delete shows at once"
    );
    assert_eq!(page["article"]["comment_count"], 0);
}

async fn a_cached_page_still_turns_closed_at_closes_at(db: Db) {
    let app = spawn_app(db).await;
    let closes_at = app.clock.now() + chrono::Duration::minutes(5);
    app.put_article(
        "bald",
        None,
        &published_for_closing_at(closes_at).to_rfc3339(),
    )
    .await;
    app.comment("bald", "u1", "Hallo").await;
    let path = "/api/v1/articles/bald/comments";
    let (status, page) = app.call(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["article"]["discussion"]["status"], "open");
    // The page stays in the cache (it is fresh for a second of real time) while the clock
    // crosses closes_at: the read just before finds it open, the read at the instant closed.
    app.clock.set(closes_at - chrono::Duration::microseconds(1));
    let (_, page) = app.call(Method::GET, path, None).await;
    assert_eq!(page["article"]["discussion"]["status"], "open");
    app.clock.set(closes_at);
    let (_, page) = app.call(Method::GET, path, None).await;
    assert_eq!(
        page["article"]["discussion"]["status"], "closed",
        "closed from closes_at on, cached page or not"
    );
    assert!(page["article"]["discussion"]["notice"]["message"].is_string());
    assert_eq!(page["comments"][0]["body"], "Hallo", "the cached comments");
}
