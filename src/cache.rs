//! A small in-process cache of comment pages, the read every article view makes.
//!
//! Bounded by the bytes it holds; an entry lives at most `TTL` (so another replica's writes show
//! within a second); a write on this process drops the article's pages at once. Only the page of
//! comments is cached: the discussion's state is computed fresh on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::entity::article;

/// How long a page may be served without asking the database.
pub const TTL: Duration = Duration::from_secs(1);

/// Which page of which list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub order: &'static str,
    pub after: Option<i64>,
    pub limit: u64,
    pub moderator: bool,
}

/// A cached page: the article row as read with it, and the serialized comments.
#[derive(Debug)]
pub struct CachedPage {
    pub article: article::Model,
    /// The JSON array of comments.
    pub comments_json: String,
    pub next_cursor: Option<String>,
    stored_at: Instant,
}

impl CachedPage {
    fn size(&self) -> usize {
        self.comments_json.len() + self.article.title.len() + self.article.url.len() + 256
    }
}

#[derive(Default)]
struct Inner {
    articles: HashMap<String, HashMap<PageKey, Arc<CachedPage>>>,
    bytes: usize,
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

    /// A page stored less than `TTL` ago.
    pub fn get(&self, article_id: &str, key: &PageKey) -> Option<Arc<CachedPage>> {
        let inner = self.inner.lock().ok()?;
        let page = inner.articles.get(article_id)?.get(key)?;
        (page.stored_at.elapsed() < TTL).then(|| page.clone())
    }

    /// Stores a page (unless it is too large for the cache) and returns it.
    pub fn put(
        &self,
        article_id: &str,
        key: PageKey,
        article: article::Model,
        comments_json: String,
        next_cursor: Option<String>,
    ) -> Arc<CachedPage> {
        let page = Arc::new(CachedPage {
            article,
            comments_json,
            next_cursor,
            stored_at: Instant::now(),
        });
        let size = page.size();
        if size > self.max_bytes / 8 {
            return page;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return page;
        };
        if inner.bytes + size > self.max_bytes {
            inner.evict_expired();
            if inner.bytes + size > self.max_bytes {
                inner.articles.clear();
                inner.bytes = 0;
            }
        }
        let pages = inner.articles.entry(article_id.to_string()).or_default();
        let old = pages
            .insert(key, page.clone())
            .map(|p| p.size())
            .unwrap_or(0);
        inner.bytes = inner.bytes + size - old;
        page
    }

    /// Drops every page of an article (a write on this process).
    pub fn invalidate(&self, article_id: &str) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(pages) = inner.articles.remove(article_id)
        {
            let freed: usize = pages.values().map(|p| p.size()).sum();
            inner.bytes -= freed;
        }
    }

    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|i| i.bytes).unwrap_or(0)
    }
}

impl Inner {
    fn evict_expired(&mut self) {
        let mut freed = 0;
        self.articles.retain(|_, pages| {
            pages.retain(|_, p| {
                let keep = p.stored_at.elapsed() < TTL;
                if !keep {
                    freed += p.size();
                }
                keep
            });
            !pages.is_empty()
        });
        self.bytes -= freed;
    }
}

/// The newest open articles of each topic (what a closed discussion's notice points to), kept for
/// `TTL`; whoever reads them still checks each one is open at that instant.
#[derive(Default)]
pub struct TopicArticles {
    inner: Mutex<HashMap<String, StoredList>>,
}

type StoredList = (Instant, Arc<Vec<article::Model>>);

/// Topics kept at most (far more than a newsroom has).
const MAX_TOPICS: usize = 4096;

impl TopicArticles {
    pub fn get(&self, topic: &str) -> Option<Arc<Vec<article::Model>>> {
        let inner = self.inner.lock().ok()?;
        let (at, list) = inner.get(topic)?;
        (at.elapsed() < TTL).then(|| list.clone())
    }

    pub fn put(&self, topic: &str, list: Vec<article::Model>) -> Arc<Vec<article::Model>> {
        let list = Arc::new(list);
        if let Ok(mut inner) = self.inner.lock() {
            if inner.len() >= MAX_TOPICS {
                inner.clear();
            }
            inner.insert(topic.to_string(), (Instant::now(), list.clone()));
        }
        list
    }

    /// Forgets everything (an article was registered, closed or reopened on this process).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

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

    #[test]
    fn a_write_drops_the_articles_pages_at_once() {
        let cache = PageCache::new(1 << 20);
        cache.put("a", key(), article("a"), "[]".into(), None);
        cache.put("b", key(), article("b"), "[]".into(), None);
        assert!(cache.get("a", &key()).is_some());
        cache.invalidate("a");
        assert!(cache.get("a", &key()).is_none());
        assert!(cache.get("b", &key()).is_some());
    }

    #[test]
    fn a_cache_of_size_zero_keeps_nothing_but_returns_the_page() {
        let cache = PageCache::new(0);
        let page = cache.put("a", key(), article("a"), "[1]".into(), None);
        assert_eq!(page.comments_json, "[1]");
        assert!(cache.get("a", &key()).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_byte_bound() {
        let cache = PageCache::new(64 * 1024);
        for i in 0..1000 {
            cache.put(
                &format!("a{i}"),
                key(),
                article("a"),
                "x".repeat(1000),
                None,
            );
            assert!(cache.bytes() <= 64 * 1024);
        }
    }
}
