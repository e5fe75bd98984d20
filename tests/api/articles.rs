use chrono::{DateTime, Months, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Db, assert_error, ids_of, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    registering_an_article_computes_closes_at_in_vienna_time,
    the_seed_article_is_closed_with_the_german_notice_and_newer_stories_of_its_topic,
    registering_twice_creates_then_updates,
    an_unknown_topic_or_bad_fields_are_refused_with_field_errors,
    unknown_articles_are_not_found,
    many_articles_come_in_the_order_asked_without_unknown_ids,
    a_topic_lists_its_newest_open_articles,
    a_discussion_turns_closed_at_closes_at_without_any_job,
    an_article_without_topic_points_to_the_default_overview,
    front_page_views_are_cached_yet_show_this_processs_changes_and_the_exact_state,
    a_front_page_view_is_the_articles_own_view_open_or_closed,
);

/// `?ids=` writes an open discussion's view from its cached row: each item is still exactly what
/// `GET /articles/{id}` answers, for open and closed discussions (with their notices), also after
/// a closure on this process. (A new comment's count reaches the cached rows within a second,
/// as `front_page_views_are_cached_...` describes, so the comments come first here.)
async fn a_front_page_view_is_the_articles_own_view_open_or_closed(db: Db) {
    let app = spawn_app(db).await;
    app.put_topic("politik", "Politik").await;
    app.put_article("alt", Some("politik"), "2020-01-01T08:00:00Z")
        .await;
    app.put_recent_article("neu", Some("politik")).await;
    app.put_recent_article("ohne", None).await;
    app.comment("neu", "u1", "Erster").await;
    app.comment("neu", "u2", "Zweiter").await;
    let ids = ["neu", "alt", "ohne"];
    let app = &app;
    let check = |expect_open: [bool; 3]| async move {
        let (status, front) = app
            .get(&format!("/api/v1/articles?ids={}", ids.join(",")))
            .await;
        assert_eq!(status, StatusCode::OK, "{front}");
        let items = front["articles"].as_array().unwrap();
        assert_eq!(items.len(), ids.len());
        for ((id, item), open) in ids.iter().zip(items).zip(expect_open) {
            let (status, own) = app.get(&format!("/api/v1/articles/{id}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(item, &own, "{id}");
            assert_eq!(item["discussion"]["status"] == "open", open, "{id}: {item}");
        }
        front
    };
    let front = check([true, false, true]).await;
    assert_eq!(front["articles"][0]["comment_count"], 2);
    assert_eq!(
        front["articles"][1]["discussion"]["notice"]["current_articles"][0]["id"],
        "neu"
    );
    // Twice: the second answer comes from the cached views.
    check([true, false, true]).await;
    let (status, _) = app
        .moderate_discussion("ohne", json!({"action": "close", "reason": "Test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let front = check([true, false, false]).await;
    assert_eq!(front["articles"][0]["comment_count"], 2);
}

async fn registering_an_article_computes_closes_at_in_vienna_time(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app
        .put_json("/api/v1/articles/a1", json!({"title": "Titel", "url": "https://www.krone.at/a1", "published_at": "2019-08-31T12:00:00+02:00"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["published_at"], "2019-08-31T10:00:00Z");
    // 31 August + 18 months clamps to 28 February; 12:00 CET is 11:00 UTC.
    assert_eq!(body["discussion"]["closes_at"], "2021-02-28T11:00:00Z");
    assert_eq!(body["topic"], serde_json::Value::Null);
    assert_eq!(body["comment_count"], 0);
}

async fn the_seed_article_is_closed_with_the_german_notice_and_newer_stories_of_its_topic(db: Db) {
    let app = spawn_app(db).await;
    app.put_topic("ausland", "Ausland").await;
    let (status, seed) = app
        .put_json(
            "/api/v1/articles/1912345",
            json!({"title": "Einladung an Putin", "url": "https://www.krone.at/1912345",
                        "topic": "ausland", "published_at": "2019-04-26T10:51:00+02:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seed}");
    // Four current stories of the topic, one older than a day; one closed by a moderator.
    for (i, days) in [(1, 4), (2, 3), (3, 2), (4, 1)] {
        let published = Utc::now() - chrono::Duration::days(days);
        app.put_article(
            &format!("neu-{i}"),
            Some("ausland"),
            &published.to_rfc3339(),
        )
        .await;
    }
    app.put_article("anderes-thema", None, &Utc::now().to_rfc3339())
        .await;

    let (status, article) = app.get("/api/v1/articles/1912345").await;
    assert_eq!(status, StatusCode::OK);
    let d = &article["discussion"];
    assert_eq!(d["status"], "closed");
    assert_eq!(d["closes_at"], "2020-10-26T09:51:00Z");
    assert_eq!(d["closed_at"], "2020-10-26T09:51:00Z");
    assert_eq!(d["closed_reason"], "expired");
    let notice = &d["notice"];
    assert_eq!(
        notice["message"],
        "Da dieser Artikel älter als 18 Monate ist, ist zum jetzigen Zeitpunkt kein Kommentieren mehr möglich."
    );
    assert_eq!(
        notice["invitation"],
        "Wir laden Sie ein, bei einer aktuelleren themenrelevanten Story mitzudiskutieren:"
    );
    assert_eq!(
        notice["topic_overview"],
        json!({"slug": "ausland", "name": "Ausland", "url": "https://www.krone.at/ausland"})
    );
    let current = ids_of(&notice["current_articles"]);
    assert_eq!(current, vec!["neu-4", "neu-3", "neu-2"]);
    assert_eq!(
        notice["contact"],
        json!({"text": "Bei Fragen können Sie sich gern an das Community-Team per Mail an forum@krone.at wenden.",
               "email": "forum@krone.at"})
    );
    // The summary shape of current articles.
    let first = &notice["current_articles"][0];
    for key in [
        "id",
        "title",
        "url",
        "topic",
        "published_at",
        "comment_count",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
}

async fn registering_twice_creates_then_updates(db: Db) {
    let app = spawn_app(db).await;
    let body = json!({"title": "Erst", "url": "https://www.krone.at/x", "published_at": "2026-11-01T08:00:00Z"});
    let (first, _) = app.put_json("/api/v1/articles/x", body).await;
    let (second, updated) = app
        .put_json("/api/v1/articles/x", json!({"title": "Dann", "url": "https://www.krone.at/x", "published_at": "2026-11-01T08:00:00Z"}))
        .await;
    assert_eq!(first, StatusCode::CREATED);
    assert_eq!(second, StatusCode::OK);
    assert_eq!(updated["title"], "Dann");
    let (status, topic) = app
        .put_json(
            "/api/v1/topics/sport",
            json!({"name": "Sport", "overview_url": "https://www.krone.at/sport"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{topic}");
    let (status, _) = app
        .put_json(
            "/api/v1/topics/sport",
            json!({"name": "Sport!", "overview_url": "https://www.krone.at/sport"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn an_unknown_topic_or_bad_fields_are_refused_with_field_errors(db: Db) {
    let app = spawn_app(db).await;
    let cases = [
        (
            json!({"title": "T", "url": "https://www.krone.at/1", "topic": "gibtsnicht", "published_at": "2026-01-01T00:00:00Z"}),
            "topic",
        ),
        (
            json!({"title": "", "url": "https://www.krone.at/1", "published_at": "2026-01-01T00:00:00Z"}),
            "title",
        ),
        (
            json!({"title": "T", "url": "krone.at", "published_at": "2026-01-01T00:00:00Z"}),
            "url",
        ),
        (
            json!({"title": "T", "url": "https://www.krone.at/1", "published_at": "gestern"}),
            "published_at",
        ),
        (
            json!({"title": "T", "url": "https://www.krone.at/1"}),
            "published_at",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = app.put_json("/api/v1/articles/a1", body.clone()).await;
        assert_error(status, &err, 422, "validation_failed");
        assert!(
            err["error"]["details"]["fields"][field].is_string(),
            "{field}: {err}"
        );
    }
    let (status, err) = app
        .put_json(
            "/api/v1/articles/bad%20id",
            json!({"title": "T", "url": "https://x.at/1", "published_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = app
        .put_json(
            "/api/v1/topics/Ausland",
            json!({"name": "A", "overview_url": "https://www.krone.at/a"}),
        )
        .await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = app
        .put_json("/api/v1/topics/ausland", json!({"name": 5}))
        .await;
    assert_error(status, &err, 400, "bad_request");
}

async fn unknown_articles_are_not_found(db: Db) {
    let app = spawn_app(db).await;
    for path in [
        "/api/v1/articles/nope",
        "/api/v1/articles/nope/comments",
        "/api/v1/topics/nope",
        "/api/v1/comments/999",
    ] {
        let (status, err) = app.get(path).await;
        assert_error(status, &err, 404, "not_found");
    }
    let (status, err) = app.get("/no/such/route").await;
    assert_error(status, &err, 404, "not_found");
}

async fn many_articles_come_in_the_order_asked_without_unknown_ids(db: Db) {
    let app = spawn_app(db).await;
    for id in ["a", "b", "c"] {
        app.put_recent_article(id, None).await;
    }
    app.comment("b", "u1", "Hallo").await;
    let (status, body) = app.get("/api/v1/articles?ids=c,unknown,b,a").await;
    assert_eq!(status, StatusCode::OK);
    let ids = ids_of(&body["articles"]);
    assert_eq!(ids, vec!["c", "b", "a"]);
    assert_eq!(body["articles"][1]["comment_count"], 1);
    let many: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
    let (status, err) = app
        .get(&format!("/api/v1/articles?ids={}", many.join(",")))
        .await;
    assert_error(status, &err, 422, "validation_failed");
    let (status, err) = app.get("/api/v1/articles").await;
    assert_error(status, &err, 422, "validation_failed");
}

async fn a_topic_lists_its_newest_open_articles(db: Db) {
    let app = spawn_app(db).await;
    app.put_topic("inland", "Inland").await;
    app.put_article("alt", Some("inland"), "2019-01-01T00:00:00Z")
        .await;
    for days in 1..=7 {
        let published = Utc::now() - chrono::Duration::days(days);
        app.put_article(&format!("i{days}"), Some("inland"), &published.to_rfc3339())
            .await;
    }
    let (status, topic) = app.get("/api/v1/topics/inland").await;
    assert_eq!(status, StatusCode::OK);
    let ids = ids_of(&topic["current_articles"]);
    assert_eq!(ids, vec!["i1", "i2", "i3", "i4", "i5"]);
    let (_, topic) = app.get("/api/v1/topics/inland?limit=10").await;
    assert_eq!(
        topic["current_articles"].as_array().unwrap().len(),
        7,
        "closed articles are left out"
    );
}

/// `published_at` such that the discussion closes at `closes_at` (18 months in Vienna time).
pub fn published_for_closing_at(closes_at: DateTime<Utc>) -> DateTime<Utc> {
    let zone = chrono_tz::Europe::Vienna;
    let local = closes_at.with_timezone(&zone).naive_local();
    let published_local = local.checked_sub_months(Months::new(18)).unwrap();
    zone.from_local_datetime(&published_local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_discussion_turns_closed_at_closes_at_without_any_job(db: Db) {
    let app = spawn_app(db).await;
    let closes_at = app.clock.now() + chrono::Duration::hours(1);
    let published = published_for_closing_at(closes_at);
    let article = app.put_article("bald", None, &published.to_rfc3339()).await;
    assert_eq!(
        article["discussion"]["closes_at"],
        closes_at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
    assert_eq!(article["discussion"]["status"], "open");
    let (status, _) = app.post_comment("bald", "u1", "Noch offen").await;
    assert_eq!(status, StatusCode::CREATED);
    // A microsecond before the instant it is still open; at the instant itself it is closed,
    // though no job runs in this test.
    app.clock.set(closes_at - chrono::Duration::microseconds(1));
    let (_, article) = app.get("/api/v1/articles/bald").await;
    assert_eq!(article["discussion"]["status"], "open");
    let (status, _) = app.post_comment("bald", "u1", "Im letzten Moment").await;
    assert_eq!(status, StatusCode::CREATED);
    let page_path = "/api/v1/articles/bald/comments";
    let (_, open_page) = app.get(page_path).await;
    assert_eq!(open_page["article"]["discussion"]["status"], "open");
    assert_eq!(open_page["comments"].as_array().unwrap().len(), 2);
    app.clock.set(closes_at);
    let (_, article) = app.get("/api/v1/articles/bald").await;
    assert_eq!(article["discussion"]["status"], "closed");
    // The page just read is still cached (the cache ages in real time, not on the moved clock):
    // its comments are the same, its article the closed one, with the notice.
    let (_, closed_page) = app.get(page_path).await;
    assert_eq!(closed_page["article"], article);
    assert_eq!(closed_page["comments"], open_page["comments"]);
    assert_eq!(closed_page["next_cursor"], open_page["next_cursor"]);
    assert_eq!(article["discussion"]["closed_reason"], "expired");
    let (status, err) = app.post_comment("bald", "u2", "Zu spät").await;
    assert_error(status, &err, 403, "discussion_closed");
    assert!(
        err["error"]["details"]["notice"]["message"]
            .as_str()
            .unwrap()
            .contains("18 Monate")
    );
}

async fn an_article_without_topic_points_to_the_default_overview(db: Db) {
    let app = crate::helpers::spawn_app_with(
        db,
        &[(
            "DEFAULT_TOPIC_OVERVIEW_URL",
            "https://www.krone.at/themen".to_string(),
        )],
    )
    .await;
    app.put_article("ohne", None, "2019-01-01T00:00:00Z").await;
    let (_, article) = app.get("/api/v1/articles/ohne").await;
    assert_eq!(
        article["discussion"]["notice"]["topic_overview"],
        json!({"slug": null, "name": "Themenübersicht", "url": "https://www.krone.at/themen"})
    );
    assert_eq!(
        article["discussion"]["notice"]["current_articles"],
        json!([])
    );
}

/// `?ids=` serves article rows from a cache (up to a second old): a change made on this process
/// shows at once, and the discussion's state is computed at the request's instant.
async fn front_page_views_are_cached_yet_show_this_processs_changes_and_the_exact_state(db: Db) {
    let app = spawn_app(db).await;
    let closes_at = app.clock.now() + chrono::Duration::hours(1);
    let published = published_for_closing_at(closes_at);
    app.put_article("bald", None, &published.to_rfc3339()).await;
    app.put_recent_article("x", None).await;
    let front_page = || async {
        let (status, body) = app.get("/api/v1/articles?ids=bald,x,nie").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["articles"].as_array().unwrap().clone()
    };
    let first = front_page().await;
    assert_eq!(
        ids_of(&serde_json::Value::Array(first.clone())),
        vec!["bald", "x"]
    );
    assert_eq!(first[1]["title"], "Artikel x");

    let (status, _) = app
        .put_json(
            "/api/v1/articles/x",
            json!({"title": "Neuer Titel", "url": "https://www.krone.at/x",
                        "published_at": app.clock.now() - chrono::Duration::days(1)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.put_recent_article("nie", None).await;
    let (status, _) = app
        .moderate_discussion("bald", json!({"action": "close", "reason": "Test"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let changed = front_page().await;
    assert_eq!(
        ids_of(&serde_json::Value::Array(changed.clone())),
        vec!["bald", "x", "nie"]
    );
    assert_eq!(changed[0]["discussion"]["closed_reason"], "moderator");
    assert_eq!(changed[1]["title"], "Neuer Titel");

    let (status, _) = app
        .moderate_discussion(
            "bald",
            json!({"action": "reopen", "until": (closes_at + chrono::Duration::minutes(30)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(front_page().await[0]["discussion"]["status"], "open");
    // No write from here on: the cached row closes at its instant, exactly.
    let reopened_until = closes_at + chrono::Duration::minutes(30);
    app.clock
        .set(reopened_until - chrono::Duration::microseconds(1));
    assert_eq!(front_page().await[0]["discussion"]["status"], "open");
    app.clock.set(reopened_until);
    let closed = front_page().await;
    assert_eq!(closed[0]["discussion"]["status"], "closed", "{}", closed[0]);
    assert!(closed[0]["discussion"]["notice"]["message"].is_string());
}
