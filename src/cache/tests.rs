use super::*;
use crate::entity::article;
use chrono::{TimeZone, Utc};
use std::time::Duration;

/// The instant the tests' pages and rows are read at.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
}

fn after(by: Duration) -> DateTime<Utc> {
    t0() + chrono::Duration::from_std(by).unwrap()
}

fn article(id: &str) -> article::Model {
    let now = Utc::now();
    article::Model {
        id: id.into(),
        title: "T".into(),
        url: "https://x.at".into(),
        topic: None,
        published_at: now,
        closes_at: now,
        closed_at: None,
        closed_reason: None,
        comment_count: 0,
        created_at: now,
        updated_at: now,
        premod: false,
        link_policy: crate::domain::states::ArticleLinkPolicy::Inherit,
        settings_message: None,
    }
}

fn key() -> PageKey {
    PageKey {
        order: "n",
        after: None,
        limit: 50,
        moderator: false,
        featured: false,
    }
}

fn miss(cache: &PageCache, id: &str) -> Stamp {
    match cache.lookup(id, &key(), t0()) {
        Lookup::Miss(stamp) => stamp,
        _ => panic!("expected a miss for {id}"),
    }
}

fn fresh(cache: &PageCache, id: &str) -> Option<String> {
    match cache.lookup(id, &key(), t0()) {
        Lookup::Fresh(page) => Some(String::from_utf8_lossy(page.body.comments_json()).into()),
        _ => None,
    }
}

fn store(cache: &PageCache, id: &str, json: &str) {
    let stamp = miss(cache, id);
    cache.put(
        id,
        key(),
        stamp,
        t0(),
        article(id),
        PageBody::new("{}", json, None),
    );
}

#[test]
fn a_write_drops_the_articles_pages_at_once() {
    let cache = PageCache::new(1 << 20);
    store(&cache, "a", "[]");
    store(&cache, "b", "[]");
    assert!(fresh(&cache, "a").is_some());
    cache.invalidate("a");
    miss(&cache, "a");
    assert!(fresh(&cache, "b").is_some());
}

#[test]
fn a_page_read_before_a_write_is_not_stored_after_it() {
    let cache = PageCache::new(1 << 20);
    let stamp = miss(&cache, "a");
    cache.invalidate("a");
    cache.put(
        "a",
        key(),
        stamp,
        t0(),
        article("a"),
        PageBody::new("{}", "[\"old\"]", None),
    );
    miss(&cache, "a");
    store(&cache, "a", "[\"new\"]");
    assert_eq!(fresh(&cache, "a").as_deref(), Some("[\"new\"]"));
}

#[test]
fn an_aging_page_is_refreshed_by_one_request_only() {
    let cache = PageCache::new(1 << 20);
    store(&cache, "a", "[]");
    let aging = after(REFRESH_AFTER + REFRESH_JITTER);
    assert!(matches!(
        cache.lookup("a", &key(), after(REFRESH_AFTER - Duration::from_millis(1))),
        Lookup::Fresh(..)
    ));
    assert!(matches!(
        cache.lookup("a", &key(), aging),
        Lookup::Refresh(..)
    ));
    assert!(
        matches!(cache.lookup("a", &key(), aging), Lookup::Fresh(..)),
        "the others are served the page meanwhile"
    );
}

#[test]
fn a_page_expires_at_its_ttl_and_when_the_clock_goes_back() {
    let cache = PageCache::new(1 << 20);
    store(&cache, "a", "[]");
    let at = |now| matches!(cache.lookup("a", &key(), now), Lookup::Miss(..));
    assert!(!at(after(TTL - Duration::from_millis(1))));
    assert!(at(after(TTL)), "expired after a second");
    assert!(
        at(t0() - chrono::Duration::seconds(5)),
        "the clock went back"
    );
    let rows: Expiring<u32> = Expiring::new(10);
    rows.put(rows.stamp(), t0(), [("a".to_string(), 1)]);
    assert_eq!(
        rows.get("a", after(TTL - Duration::from_millis(1))),
        Some(1)
    );
    assert_eq!(rows.get("a", after(TTL)), None);
    assert_eq!(rows.get("a", t0() - chrono::Duration::seconds(5)), None);
}

#[test]
fn a_cache_of_size_zero_keeps_nothing_but_returns_the_page() {
    let cache = PageCache::new(0);
    let stamp = miss(&cache, "a");
    let page = cache.put(
        "a",
        key(),
        stamp,
        t0(),
        article("a"),
        PageBody::new("{}", "[1]", None),
    );
    assert_eq!(page.body.comments_json(), b"[1]");
    miss(&cache, "a");
}

#[test]
fn a_page_body_takes_another_article_view_in_front_of_the_same_comments() {
    let comments = r#"[{"id":"1","body":"\"comments\": ,\"next_cursor\":"}]"#;
    for cursor in [None, Some("bi40Mg")] {
        let body = PageBody::new(r#"{"id":"a","open":true}"#, comments, cursor);
        let open: serde_json::Value = serde_json::from_slice(&body.open()).unwrap();
        let closed: serde_json::Value =
            serde_json::from_slice(&body.with_article(r#"{"id":"a","open":false}"#)).unwrap();
        let expected = |open: bool| {
            serde_json::json!({
                "article": {"id": "a", "open": open},
                "comments": serde_json::from_str::<serde_json::Value>(comments).unwrap(),
                "next_cursor": cursor,
            })
        };
        assert_eq!(open, expected(true));
        assert_eq!(closed, expected(false));
        assert_eq!(body.comments_json(), comments.as_bytes());
    }
}

#[test]
fn invalidating_many_articles_stays_within_the_byte_bound_and_still_refuses_older_reads() {
    let cache = PageCache::new(64 * 1024);
    store(&cache, "a", "[]");
    for i in 0..10_000 {
        let id = format!("written-{i}");
        let before = miss(&cache, &id);
        cache.invalidate(&id);
        assert!(cache.bytes() <= 64 * 1024, "after {i}: {}", cache.bytes());
        // A page read before the write is not stored after it.
        cache.put(
            &id,
            key(),
            before,
            t0(),
            article(&id),
            PageBody::new("{}", "[]", None),
        );
        assert!(fresh(&cache, &id).is_none(), "{id}");
    }
    let entries = cache.entries();
    assert!(entries <= 64 * 1024 / 128, "{entries} entries");
}

#[test]
fn the_cache_stays_within_its_byte_bound() {
    let cache = PageCache::new(64 * 1024);
    for i in 0..1000 {
        store(&cache, &format!("a{i}"), &"x".repeat(1000));
        assert!(cache.bytes() <= 64 * 1024);
    }
}

#[test]
fn forgetting_a_key_refuses_only_that_keys_older_reads() {
    let rows: Expiring<u32> = Expiring::new(100);
    let (_, stamp) = rows.get_one("a", t0());
    // A post on article "a" while both rows were being read.
    rows.forget("a");
    rows.put(stamp, t0(), [("a".to_string(), 1), ("b".to_string(), 2)]);
    assert_eq!(
        rows.get_one("a", t0()).0.map(|f| f.0),
        None,
        "a's row was read before a changed"
    );
    assert_eq!(
        rows.get_one("b", t0()).0.map(|f| f.0),
        Some(2),
        "b did not change"
    );
    // Read after the change: stored.
    let (_, stamp) = rows.get_one("a", t0());
    rows.put(stamp, t0(), [("a".to_string(), 3)]);
    assert_eq!(rows.get_one("a", t0()).0.map(|f| f.0), Some(3));
    // Forgotten at once, whatever was read.
    rows.forget("b");
    assert_eq!(rows.get_one("b", t0()).0.map(|f| f.0), None);
}

#[test]
fn clearing_refuses_every_older_read_and_many_forgotten_keys_stay_safe() {
    let rows: Expiring<u32> = Expiring::new(100_000);
    let (_, before) = rows.get_one("a", t0());
    rows.clear();
    rows.put(before, t0(), [("a".to_string(), 1)]);
    assert_eq!(rows.get_one("a", t0()).0.map(|f| f.0), None);
    // More forgotten keys than are remembered one by one: a read from before all of them
    // is still refused for every key forgotten since.
    let (_, before) = rows.get_one("k0", t0());
    for i in 0..MAX_FORGOTTEN + 10 {
        rows.forget(&format!("k{i}"));
    }
    rows.put(
        before,
        t0(),
        (0..MAX_FORGOTTEN + 10).map(|i| (format!("k{i}"), 1)),
    );
    for i in [0, 1, MAX_FORGOTTEN, MAX_FORGOTTEN + 9] {
        assert_eq!(
            rows.get_one(&format!("k{i}"), t0()).0.map(|f| f.0),
            None,
            "k{i}"
        );
    }
    let (_, later) = rows.get_one("k0", t0());
    rows.put(later, t0(), [("k0".to_string(), 7)]);
    assert_eq!(rows.get_one("k0", t0()).0.map(|f| f.0), Some(7));
}
