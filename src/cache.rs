//! A small in-process cache of comment pages, the read every article view makes.
//!
//! Bounded by the bytes it holds. A page is served for at most `TTL` after it was read from the
//! database (so another replica's writes show within a second); from its refresh age on (between
//! `REFRESH_AFTER` and `REFRESH_AFTER + REFRESH_JITTER`, so pages loaded together do not all come
//! due together), the
//! first request that finds it starts a refresh in the background and is still served the page,
//! so hot pages never make a reader wait. A write on this process drops the article's pages at
//! once, and a page read from the database before that write is never stored after it (each
//! article has a generation that the write moves on). Only the page of comments is cached: the
//! discussion's state is computed fresh on every request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use crate::entity::{article, topic};

/// How long a page may be served without asking the database.
pub const TTL: Duration = Duration::from_secs(1);
/// From this age on, a request starts a refresh in the background.
pub const REFRESH_AFTER: Duration = Duration::from_millis(550);
/// Each page's refresh age is `REFRESH_AFTER` plus a random part of this.
pub const REFRESH_JITTER: Duration = Duration::from_millis(350);

/// How old something read at `at` is at `now`, on the service's clock (so tests move time
/// instead of waiting). Should the clock have gone back past `at`, it counts as expired: a value
/// is never served longer than `TTL` because of a clock step.
fn age(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (now - at).to_std().unwrap_or(Duration::MAX)
}

/// Which page of which list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub order: &'static str,
    pub after: Option<i64>,
    pub limit: u64,
    pub moderator: bool,
}

/// A cached page: the article row as read with it, and the response body.
#[derive(Debug)]
pub struct CachedPage {
    pub article: article::Model,
    pub body: PageBody,
    stored_at: DateTime<Utc>,
    refreshing: AtomicBool,
    refresh_after: Duration,
}

impl CachedPage {
    /// No refresh was started after all: a later request may start one.
    pub fn refresh_declined(&self) {
        self.refreshing.store(false, Ordering::Release);
    }

    fn size(&self) -> usize {
        self.body.bytes.len() + self.article.title.len() + self.article.url.len() + 256
    }
}

/// A page's response body, `{"article":...,"comments":[...],"next_cursor":...}`, written once
/// with the article's view while its discussion is open: served as it is (shared, not copied)
/// while the discussion is still open at the request's instant, and with another view of the
/// article in front of the same comments otherwise.
#[derive(Clone, Debug)]
pub struct PageBody {
    bytes: Bytes,
    /// Where `,"comments":` starts: everything from there on is the same for every view.
    comments_at: usize,
    /// Where the comments' array ends.
    comments_end: usize,
}

const BODY_START: &str = "{\"article\":";
const COMMENTS_KEY: &str = ",\"comments\":";

impl PageBody {
    /// The body with the open discussion's view `article_json`, the JSON array `comments_json`
    /// and the cursor of the next page.
    pub fn new(article_json: &str, comments_json: &str, next_cursor: Option<&str>) -> PageBody {
        let cursor_json = serde_json::Value::from(next_cursor).to_string();
        let mut body = String::with_capacity(
            article_json.len() + comments_json.len() + cursor_json.len() + 48,
        );
        body.push_str(BODY_START);
        body.push_str(article_json);
        let comments_at = body.len();
        body.push_str(COMMENTS_KEY);
        body.push_str(comments_json);
        let comments_end = body.len();
        body.push_str(",\"next_cursor\":");
        body.push_str(&cursor_json);
        body.push('}');
        PageBody {
            bytes: body.into(),
            comments_at,
            comments_end,
        }
    }

    /// The body as written, with the open discussion's view.
    pub fn open(&self) -> Bytes {
        self.bytes.clone()
    }

    /// The same page with `article_json` as the article's view.
    pub fn with_article(&self, article_json: &str) -> Bytes {
        let rest = &self.bytes[self.comments_at..];
        let mut body = Vec::with_capacity(BODY_START.len() + article_json.len() + rest.len());
        body.extend_from_slice(BODY_START.as_bytes());
        body.extend_from_slice(article_json.as_bytes());
        body.extend_from_slice(rest);
        body.into()
    }

    /// The JSON array of the page's comments.
    pub fn comments_json(&self) -> &[u8] {
        &self.bytes[self.comments_at + COMMENTS_KEY.len()..self.comments_end]
    }
}

/// When a page was read relative to the writes on its article: a page is stored only if no
/// write (and no eviction) happened since its stamp was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    evictions: u64,
    generation: u64,
}

/// What a lookup found.
pub enum Lookup {
    /// A page to serve as it is.
    Fresh(Arc<CachedPage>),
    /// A page to serve while the caller refreshes it in the background (with this stamp).
    Refresh(Arc<CachedPage>, Stamp),
    /// Nothing: read the page from the database (with this stamp) and `put` it.
    Miss(Stamp),
}

#[derive(Default)]
struct ArticlePages {
    generation: u64,
    pages: HashMap<PageKey, Arc<CachedPage>>,
}

#[derive(Default)]
struct Inner {
    articles: HashMap<String, ArticlePages>,
    bytes: usize,
    evictions: u64,
}

impl Inner {
    fn stamp(&self, article_id: &str) -> Stamp {
        Stamp {
            evictions: self.evictions,
            generation: self
                .articles
                .get(article_id)
                .map(|a| a.generation)
                .unwrap_or(0),
        }
    }

    fn evict_expired(&mut self, now: DateTime<Utc>) {
        let mut freed = 0;
        self.articles.retain(|id, article| {
            article.pages.retain(|_, p| {
                let keep = age(now, p.stored_at) < TTL;
                if !keep {
                    freed += p.size();
                }
                keep
            });
            let keep = !article.pages.is_empty();
            if !keep {
                freed += entry_cost(id);
            }
            keep
        });
        self.bytes -= freed;
        self.evictions += 1;
    }
}

/// What an article's entry costs besides its pages (its id, its generation, the map's share):
/// counted like the pages, so entries that only hold a generation stay within the bound too.
fn entry_cost(article_id: &str) -> usize {
    article_id.len() + 128
}

/// The page cache of one process.
pub struct PageCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

impl PageCache {
    pub fn new(max_bytes: usize) -> PageCache {
        PageCache {
            inner: Mutex::new(Inner::default()),
            max_bytes,
        }
    }

    /// The page of `key` at the request's instant `now`.
    pub fn lookup(&self, article_id: &str, key: &PageKey, now: DateTime<Utc>) -> Lookup {
        let Ok(inner) = self.inner.lock() else {
            return Lookup::Miss(Stamp {
                evictions: u64::MAX,
                generation: u64::MAX,
            });
        };
        let stamp = inner.stamp(article_id);
        let Some(page) = inner
            .articles
            .get(article_id)
            .and_then(|a| a.pages.get(key))
        else {
            return Lookup::Miss(stamp);
        };
        let age = age(now, page.stored_at);
        if age >= TTL {
            Lookup::Miss(stamp)
        } else if age >= page.refresh_after && !page.refreshing.swap(true, Ordering::AcqRel) {
            Lookup::Refresh(page.clone(), stamp)
        } else {
            Lookup::Fresh(page.clone())
        }
    }

    /// Stores a page read from the database after `stamp` was taken (unless a write came in
    /// between, or the page is too large for the cache) and returns it. `read_at` is when its
    /// oldest part was read (the article's row may come from the cache of rows): the page ages
    /// from then.
    pub fn put(
        &self,
        article_id: &str,
        key: PageKey,
        stamp: Stamp,
        read_at: DateTime<Utc>,
        article: article::Model,
        body: PageBody,
    ) -> Arc<CachedPage> {
        let page = Arc::new(CachedPage {
            article,
            body,
            stored_at: read_at,
            refreshing: AtomicBool::new(false),
            refresh_after: REFRESH_AFTER + REFRESH_JITTER.mul_f64(rand::random::<f64>()),
        });
        let size = page.size();
        if size > self.max_bytes / 8 {
            return page;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return page;
        };
        if inner.stamp(article_id) != stamp {
            return page;
        }
        let size = size + entry_cost(article_id);
        if inner.bytes + size > self.max_bytes {
            inner.evict_expired(read_at);
            if inner.bytes + size > self.max_bytes {
                inner.articles.clear();
                inner.bytes = 0;
            }
            // The eviction moved `evictions` on: stamps taken before it no longer match.
        }
        if !inner.articles.contains_key(article_id) {
            inner.bytes += entry_cost(article_id);
        }
        let article = inner.articles.entry(article_id.to_string()).or_default();
        let old = article
            .pages
            .insert(key, page.clone())
            .map(|p| p.size())
            .unwrap_or(0);
        inner.bytes = inner.bytes + page.size() - old;
        page
    }

    /// Drops every page of an article (a write on this process) and moves its generation on, so
    /// a page read before the write is not stored after it.
    /// An article without an entry gets one (counted) to carry its generation; when there is no
    /// room for it, the whole cache is dropped instead, which moves every stamp on as well.
    pub fn invalidate(&self, article_id: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            if !inner.articles.contains_key(article_id) {
                let cost = entry_cost(article_id);
                if inner.bytes + cost > self.max_bytes {
                    inner.articles.clear();
                    inner.bytes = 0;
                    inner.evictions += 1;
                    return;
                }
                inner.bytes += cost;
            }
            let article = inner.articles.entry(article_id.to_string()).or_default();
            article.generation += 1;
            let freed: usize = article.pages.drain().map(|(_, p)| p.size()).sum();
            inner.bytes -= freed;
        }
    }

    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|i| i.bytes).unwrap_or(0)
    }
}

/// Values by key, each kept for `TTL` after it was read from the database, for reads that may be
/// up to a second old (as cached pages are); whoever uses one still computes the discussion's
/// state at that instant. A change on this process forgets the changed key at once, and a value
/// of that key read before the change is not stored after it; values of other keys still are
/// (a post forgets its article's row, and posts must not keep a front page's rows from being
/// stored).
pub struct Expiring<V> {
    inner: Mutex<ExpiringInner<V>>,
    max: usize,
}

struct ExpiringInner<V> {
    values: HashMap<String, Entry<V>>,
    /// Moved on by every change; a lookup's stamp is its value then.
    generation: u64,
    /// The generation each recently forgotten key was forgotten at: a value of that key read
    /// with an older stamp is not stored.
    forgotten: HashMap<String, u64>,
    /// Values read with a stamp older than this are not stored at all (set by `clear`, and when
    /// `forgotten` grew too large to keep).
    stale_before: u64,
    /// Keys found past `REFRESH_AFTER`, for the background refresh (see [`Expiring::take_due`]).
    due: Vec<String>,
}

struct Entry<V> {
    at: DateTime<Utc>,
    value: V,
    /// Already in `due`.
    queued: bool,
}

impl<V: Clone> Entry<V> {
    /// The value if it is fresh at `now`, and whether it has just come due for the background
    /// refresh (then it is marked queued; only if `may_queue`).
    fn fresh(&mut self, now: DateTime<Utc>, may_queue: bool) -> Option<(V, bool)> {
        let age = age(now, self.at);
        if age >= TTL {
            return None;
        }
        let due = may_queue && !self.queued && age >= REFRESH_AFTER;
        self.queued |= due;
        Some((self.value.clone(), due))
    }
}

/// What a batch lookup found: the fresh values, the keys to read, and the stamp to store them with.
pub struct Found<V> {
    pub hits: HashMap<String, V>,
    pub misses: Vec<String>,
    pub stamp: u64,
}

/// Keys queued for the background refresh at most (more wait for their next lookup).
const MAX_DUE: usize = 10_000;
/// Forgotten keys remembered at most; past that, every read from before is refused instead.
const MAX_FORGOTTEN: usize = 4096;

impl<V: Clone> Expiring<V> {
    pub fn new(max: usize) -> Expiring<V> {
        Expiring {
            inner: Mutex::new(ExpiringInner {
                values: HashMap::new(),
                generation: 0,
                forgotten: HashMap::new(),
                stale_before: 0,
                due: Vec::new(),
            }),
            max,
        }
    }

    /// The value of `key` if it is fresh at `now`.
    pub fn get(&self, key: &str, now: DateTime<Utc>) -> Option<V> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.values.get(key)?;
        (age(now, entry.at) < TTL).then(|| entry.value.clone())
    }

    /// The fresh value of `key` with when it was read (queued for the background refresh when
    /// it is past its refresh age), and the stamp to store a value read instead with.
    pub fn get_one(&self, key: &str, now: DateTime<Utc>) -> (Option<(V, DateTime<Utc>)>, u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return (None, u64::MAX);
        };
        let stamp = inner.generation;
        let room = inner.due.len() < MAX_DUE;
        let Some(entry) = inner.values.get_mut(key) else {
            return (None, stamp);
        };
        let at = entry.at;
        let Some((value, due)) = entry.fresh(now, room) else {
            return (None, stamp);
        };
        if due {
            inner.due.push(key.to_string());
        }
        (Some((value, at)), stamp)
    }

    /// The values of `keys` fresh at `now`, and which of them must be read.
    pub fn get_many(&self, keys: &[String], now: DateTime<Utc>) -> Found<V> {
        let mut found = Found {
            hits: HashMap::with_capacity(keys.len()),
            misses: Vec::new(),
            stamp: u64::MAX,
        };
        let Ok(mut inner) = self.inner.lock() else {
            found.misses = keys.to_vec();
            return found;
        };
        found.stamp = inner.generation;
        let mut due = Vec::new();
        for key in keys {
            let fresh = inner
                .values
                .get_mut(key.as_str())
                .and_then(|entry| entry.fresh(now, true));
            match fresh {
                Some((value, is_due)) => {
                    if is_due {
                        due.push(key.clone());
                    }
                    found.hits.insert(key.clone(), value);
                }
                None => found.misses.push(key.clone()),
            }
        }
        if inner.due.len() < MAX_DUE {
            inner.due.append(&mut due);
        }
        found
    }

    /// The keys found past their refresh age since the last call, and the stamp to store them
    /// with: read together by a background task, they are fresh again before they expire.
    pub fn take_due(&self) -> (Vec<String>, u64) {
        match self.inner.lock() {
            Ok(mut inner) => (std::mem::take(&mut inner.due), inner.generation),
            Err(_) => (Vec::new(), u64::MAX),
        }
    }

    /// Stores what was read at `at` after a lookup that gave `stamp` (nothing of a key that
    /// changed in between).
    pub fn put(
        &self,
        stamp: u64,
        at: DateTime<Utc>,
        values: impl IntoIterator<Item = (String, V)>,
    ) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if stamp < inner.stale_before || stamp > inner.generation {
            return;
        }
        for (key, value) in values {
            if inner.forgotten.get(&key).is_some_and(|&at| at > stamp) {
                continue; // read before this key changed
            }
            if inner.values.len() >= self.max {
                inner.values.retain(|_, e| age(at, e.at) < TTL);
                if inner.values.len() >= self.max {
                    inner.values.clear();
                }
            }
            let queued = false;
            inner.values.insert(key, Entry { at, value, queued });
        }
    }

    /// Stores one value read at `at`, unless its key changed since `stamp`.
    pub fn put_one(&self, stamp: u64, at: DateTime<Utc>, key: &str, value: V) -> V {
        self.put(stamp, at, [(key.to_string(), value.clone())]);
        value
    }

    /// The stamp to `put` with what is read from now on.
    pub fn stamp(&self) -> u64 {
        self.inner.lock().map(|i| i.generation).unwrap_or(u64::MAX)
    }

    /// Forgets one key (it changed on this process).
    pub fn forget(&self, key: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation += 1;
            inner.values.remove(key);
            if inner.forgotten.len() >= MAX_FORGOTTEN {
                inner.forgotten.clear();
                inner.stale_before = inner.generation;
            }
            let generation = inner.generation;
            inner.forgotten.insert(key.to_string(), generation);
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation += 1;
            inner.stale_before = inner.generation;
            inner.forgotten.clear();
            inner.values.clear();
            inner.due.clear();
        }
    }
}

/// The newest open articles of each topic (what a closed discussion's notice points to).
pub type TopicArticles = Expiring<Arc<Vec<article::Model>>>;
/// Topic rows by slug (`None`: no such topic).
pub type TopicRows = Expiring<Option<Arc<topic::Model>>>;
/// Article rows by id (`None`: no such article), for the views a front page asks for.
pub type ArticleRows = Expiring<Option<Arc<ArticleRow>>>;

/// A cached article row, with the JSON of its view while the discussion is open, written at most
/// once per row read: an open discussion's view depends on nothing but the row (the state is
/// open until `closes_at`; the caller checks that at every request's instant). A closed one's
/// view names the topic's newer open articles, and is built on every request.
#[derive(Debug)]
pub struct ArticleRow {
    pub row: article::Model,
    open_view: std::sync::OnceLock<String>,
}

impl ArticleRow {
    pub fn new(row: article::Model) -> ArticleRow {
        ArticleRow {
            row,
            open_view: std::sync::OnceLock::new(),
        }
    }

    /// The open discussion's view as JSON: `write`'s, the first time.
    pub fn open_view(&self, write: impl FnOnce(&article::Model) -> String) -> &str {
        self.open_view.get_or_init(|| write(&self.row))
    }
}

/// Topics kept at most (far more than a newsroom has).
pub const MAX_TOPICS: usize = 4096;
/// Articles kept at most: about 8 MB of rows.
pub const MAX_ARTICLES: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

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
        let entries = cache.inner.lock().unwrap().articles.len();
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
}
