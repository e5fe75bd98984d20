//! The cached read path: writes show at once on the same process; the state is never cached.

use comment_service::config::Settings;
use comment_service::domain::states::CommentStatus;
use comment_service::entity::comment;
use comment_service::store::articles;
use comment_service::store::comments::Order;
use comment_service::store::pages::{self, PageRequest, PageSource, SqliteReader};
use comment_service::views::dto;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde_json::json;

use crate::articles::published_for_closing_at;
use crate::helpers::{Db, spawn_app, spawn_app_with_article};
use crate::on_both_databases;

on_both_databases!(
    a_write_is_visible_to_the_very_next_read_on_the_same_process,
    a_cached_page_still_turns_closed_at_closes_at,
    lists_are_planned_once_and_other_statements_for_their_values,
    a_page_is_the_views_of_its_stored_comments,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_read_through_the_pool_when_reading_sqlite_directly_fails() {
    let app = spawn_app(Db::Sqlite).await;
    app.put_recent_article("a1", None).await;
    let first = app.comment("a1", "u1", "Erster").await;
    app.comment("a1", "u2", "Zweiter").await;
    let request = PageRequest {
        article_id: "a1",
        order: Order::Oldest,
        after: None,
        limit: 1,
        moderator: false,
        featured: false,
    };
    let state = &app.state;
    let direct = state
        .page_source()
        .article_page(request)
        .await
        .unwrap()
        .unwrap();
    // A reader whose file cannot be opened: the same page comes from the pool.
    let broken = PageSource::Sqlite {
        reader: SqliteReader::for_url("sqlite:///nonexistent-directory/comments.db").unwrap(),
        pool: app.db.clone(),
    };
    let pooled = broken.article_page(request).await.unwrap().unwrap();
    assert_eq!(broken.idle_connections(), 0);
    assert_eq!(pooled.comments_json, direct.comments_json);
    assert_eq!(pooled.more_after, Some(first.parse().unwrap()));
    assert_eq!(pooled.article, direct.article);
    let missing = PageRequest {
        article_id: "nope",
        ..request
    };
    assert!(broken.article_page(missing).await.unwrap().is_none());
}

/// PostgreSQL's page reader keeps its connections between reads. When the server ends one of
/// them (a restart, an administrator), the next read takes a new connection and still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reader_connection_ended_by_postgres_is_replaced() {
    let Some(db) = Db::postgres("a_page_reader_connection_ended_by_postgres_is_replaced") else {
        return;
    };
    let app = spawn_app_with_article(db).await;
    let first = app.comment("a1", "u1", "Erster").await;
    // A reader of its own, whose connections carry a name no other test's do.
    let name = format!("pages-{}", std::process::id());
    let sep = if app.database.url.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{sep}application_name={name}", app.database.url);
    let settings = Settings::from_vars([("DATABASE_URL".to_string(), url)]).unwrap();
    let main = comment_service::db::connect(&settings).await.unwrap();
    let lists = comment_service::db::connect_lists(&settings, &main)
        .await
        .unwrap();
    let reader = pages::PostgresReader::like(&lists, std::time::Duration::from_secs(3));
    let request = PageRequest {
        article_id: "a1",
        order: Order::Newest,
        after: None,
        limit: 50,
        moderator: false,
        featured: false,
    };
    let before = reader.comments_page(request).await.unwrap();
    assert!(
        before.comments_json.contains(&first),
        "{}",
        before.comments_json
    );
    assert_eq!(reader.idle_connections(), 1);
    let ended = app
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE application_name = '{name}' AND query LIKE 'SELECT c.id%'"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let ended: i64 = ended.try_get("", "n").unwrap();
    assert_eq!(ended, 1, "the reader's one connection was ended");
    let after = reader.comments_page(request).await.unwrap();
    assert_eq!(after.comments_json, before.comments_json);
    assert_eq!(reader.idle_connections(), 1);
}

/// Every page, read through either path, is the views of the stored comments it should hold:
/// the same JSON the comment's own view gives, in order, filtered for the caller, with the next
/// page's cursor exactly when more follow.
async fn a_page_is_the_views_of_its_stored_comments(db: Db) {
    let app = spawn_app_with_article(db).await;
    app.put_recent_article("empty", None).await;
    app.put_json_as_moderator(
        "/api/v1/moderation/rules",
        json!({"suspect_words": ["depp"]}),
    )
    .await;
    app.comment("a1", "u1", "Sichtbar \"zitiert\" – Ä").await;
    let hidden = app.comment("a1", "u2", "Wird versteckt").await;
    app.decide(&hidden, json!({"action": "hide"})).await;
    let deleted = app
        .comment("a1", "u3", "Wird gelöscht, hat Antworten")
        .await;
    app.reply("a1", &deleted, "u4", "Antwort").await;
    app.decide(&deleted, json!({"action": "delete"})).await;
    let edited = app.comment("a1", "u5", "Tippfeler").await;
    let (status, _) = app
        .patch_json(
            &format!("/api/v1/comments/{edited}"),
            json!({"author_id": "u5", "body": "Tippfehler"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, held) = app.post_comment("a1", "u6", "So ein Depp").await;
    assert_eq!(held["status"], "pending_review", "{status} {held}");
    let last = app.comment("a1", "u7", "Letzter").await;
    // Reactions: two on the edited comment, one on the last.
    for (comment, reader) in [(&edited, "r1"), (&edited, "r2"), (&last, "r1")] {
        let (status, body) = app
            .put_json(
                &format!("/api/v1/comments/{comment}/reactions/{reader}"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let stored = comment::Entity::find()
        .filter(comment::Column::ArticleId.eq("a1"))
        .filter(comment::Column::ParentId.is_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 6);
    let ids: Vec<i64> = stored.iter().map(|c| c.id).collect();
    let reactions = comment_service::store::reactions::counts(&app.db, &ids)
        .await
        .unwrap();
    assert_eq!(reactions.values().sum::<i64>(), 3);
    let article = articles::find(&app.db, "a1").await.unwrap().unwrap();
    let state = &app.state;
    // The process's own source (direct on SQLite, its own connections on PostgreSQL), and the
    // pool.
    let pool = PageSource::Pool(app.db.clone());
    match (&state.page_source(), app.db.get_database_backend()) {
        (PageSource::Sqlite { .. }, DbBackend::Sqlite)
        | (PageSource::Postgres(_), DbBackend::Postgres) => {}
        _ => panic!("the process reads pages from the wrong source"),
    }
    let mut checked = 0;
    for (direct, source) in [(false, &pool), (true, state.page_source())] {
        for moderator in [false, true] {
            for order in [Order::Newest, Order::Oldest] {
                let mut shown: Vec<&comment::Model> = stored
                    .iter()
                    .filter(|c| {
                        moderator || c.status == CommentStatus::Visible || c.reply_count > 0
                    })
                    .collect();
                shown.sort_by_key(|c| c.id);
                if order == Order::Newest {
                    shown.reverse();
                }
                for (limit, after) in [(50, None), (2, None), (2, Some(shown[1].id))] {
                    let from = match after {
                        Some(id) => shown.iter().position(|c| c.id == id).unwrap() + 1,
                        None => 0,
                    };
                    let expected: Vec<_> = shown[from..]
                        .iter()
                        .take(limit)
                        .map(|c| {
                            let count = reactions.get(&c.id).copied().unwrap_or(0);
                            dto::Comment::view(c, count, moderator)
                        })
                        .collect();
                    let more = shown.len() - from > limit;
                    let request = PageRequest {
                        article_id: "a1",
                        order,
                        after,
                        limit: limit as u64,
                        moderator,
                        featured: false,
                    };
                    let page = source.article_page(request).await.unwrap().unwrap();
                    let what = format!("{request:?} direct: {direct}");
                    assert_eq!(
                        page.comments_json,
                        serde_json::to_string(&expected).unwrap(),
                        "{what}"
                    );
                    let last = expected.last().map(|c| c.id.parse::<i64>().unwrap());
                    assert_eq!(page.more_after, if more { last } else { None }, "{what}");
                    assert_eq!(page.article, article, "{what}");
                    // The same page without the article (its row is cached), from the same
                    // source.
                    let comments = source.comments_page(request).await.unwrap();
                    assert_eq!(comments.comments_json, page.comments_json, "{what}");
                    assert_eq!(comments.more_after, page.more_after, "{what}");
                    checked += 1;
                }
            }
        }
        let request = PageRequest {
            article_id: "empty",
            order: Order::Newest,
            after: None,
            limit: 50,
            moderator: false,
            featured: false,
        };
        let page = source.article_page(request).await.unwrap().unwrap();
        assert_eq!((page.comments_json.as_str(), page.more_after), ("[]", None));
        let missing = PageRequest {
            article_id: "nope",
            ..request
        };
        assert!(source.article_page(missing).await.unwrap().is_none());
        let none = source.comments_page(missing).await.unwrap();
        assert_eq!((none.comments_json.as_str(), none.more_after), ("[]", None));
    }
    assert!(checked >= 12);
    // The direct reads kept their connection for the next ones.
    assert!(state.page_source().idle_connections() >= 1);
}

/// Pages are read with the lists pool's settings: on PostgreSQL its connections keep one
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
    // Without DATABASE_MAX_CONNECTIONS the lists pool is twice the main pool.
    let max = |db: &sea_orm::DatabaseConnection| {
        db.get_postgres_connection_pool()
            .options()
            .get_max_connections()
    };
    assert_eq!(max(&lists), 2 * max(&main));
    let (lists_mode, lists_path) = mode(lists).await;
    let (main_mode, main_path) = mode(main).await;
    assert_eq!(lists_mode, "force_generic_plan");
    assert_eq!(main_mode, "auto");
    // Both read the test's own schema.
    assert_eq!(lists_path, main_path);
}

async fn a_write_is_visible_to_the_very_next_read_on_the_same_process(db: Db) {
    let app = spawn_app_with_article(db).await;
    let path = "/api/v1/articles/a1/comments";
    let (_, empty) = app.get(path).await;
    assert_eq!(empty["comments"].as_array().unwrap().len(), 0);
    let id = app.comment("a1", "u1", "Erster").await;
    let (_, page) = app.get(path).await;
    assert_eq!(
        page["comments"][0]["id"],
        id.as_str(),
        "the post shows at once"
    );
    assert_eq!(page["article"]["comment_count"], 1);
    app.patch_json(
        &format!("/api/v1/comments/{id}"),
        serde_json::json!({"author_id": "u1", "body": "Geändert"}),
    )
    .await;
    let (_, page) = app.get(path).await;
    assert_eq!(
        page["comments"][0]["body"], "Geändert",
        "the edit shows at once"
    );
    app.delete_json(
        &format!("/api/v1/comments/{id}"),
        serde_json::json!({"author_id": "u1"}),
    )
    .await;
    let (_, page) = app.get(path).await;
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
    let (status, page) = app.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["article"]["discussion"]["status"], "open");
    // The page stays in the cache (it is fresh for a second of real time) while the clock
    // crosses closes_at: the read just before finds it open, the read at the instant closed.
    app.clock.set(closes_at - chrono::Duration::microseconds(1));
    let (_, page) = app.get(path).await;
    assert_eq!(page["article"]["discussion"]["status"], "open");
    app.clock.set(closes_at);
    let (_, page) = app.get(path).await;
    assert_eq!(
        page["article"]["discussion"]["status"], "closed",
        "closed from closes_at on, cached page or not"
    );
    assert!(page["article"]["discussion"]["notice"]["message"].is_string());
    assert_eq!(page["comments"][0]["body"], "Hallo", "the cached comments");
}
