//! The page cache: pages of comments by article, bounded by the bytes they hold.
//!
//! From its refresh age on (between `REFRESH_AFTER` and `REFRESH_AFTER + REFRESH_JITTER`, so
//! pages loaded together do not all come due together), the first request that finds a page
//! starts a refresh in the background and is still served the page, so hot pages never make a
//! reader wait. A write on this process drops the article's pages at once. Only the page of
//! comments is cached: the discussion's state is computed fresh on every request.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};

use super::{REFRESH_AFTER, REFRESH_JITTER, TTL, Versions, age};
use crate::entity::article;

/// Which page of which list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub order: &'static str,
    pub after: Option<i64>,
    pub limit: u64,
    pub moderator: bool,
    /// Only the editors' picks.
    pub featured: bool,
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
/// write on its article happened since its stamp was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(u64);

/// What a lookup found.
pub enum Lookup {
    /// A page to serve as it is.
    Fresh(Arc<CachedPage>),
    /// A page to serve while the caller refreshes it in the background (with this stamp).
    Refresh(Arc<CachedPage>, Stamp),
    /// Nothing: read the page from the database (with this stamp) and `put` it.
    Miss(Stamp),
}

/// An article's cached pages, as one entry of the cache (replaced as a whole when a page is
/// added: an article has a few pages).
#[derive(Clone, Default)]
struct ArticlePages {
    pages: HashMap<PageKey, Arc<CachedPage>>,
    bytes: u64,
}

/// An entry's weight: its pages' bytes and what the entry itself costs (its id, the map).
#[derive(Clone)]
struct PageWeight;

impl quick_cache::Weighter<String, Arc<ArticlePages>> for PageWeight {
    fn weight(&self, key: &String, pages: &Arc<ArticlePages>) -> u64 {
        pages.bytes + key.len() as u64 + 128
    }
}

/// The page cache of one process.
pub struct PageCache {
    articles: quick_cache::sync::Cache<String, Arc<ArticlePages>, PageWeight>,
    versions: Versions,
    max_bytes: usize,
}

impl PageCache {
    pub fn new(max_bytes: usize) -> PageCache {
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity((max_bytes / 8192).max(16))
            .weight_capacity(max_bytes as u64)
            .shards(4)
            .build()
            .expect("valid cache options");
        PageCache {
            articles: quick_cache::sync::Cache::with_options(
                options,
                PageWeight,
                Default::default(),
                Default::default(),
            ),
            versions: Versions::new(),
            max_bytes,
        }
    }

    /// The page of `key` at the request's instant `now`.
    pub fn lookup(&self, article_id: &str, key: &PageKey, now: DateTime<Utc>) -> Lookup {
        // Taken before the lookup: a write after it refuses what the caller then reads.
        let stamp = Stamp(self.versions.stamp());
        let Some(page) = self
            .articles
            .get(article_id)
            .and_then(|a| a.pages.get(key).cloned())
        else {
            return Lookup::Miss(stamp);
        };
        let age = age(now, page.stored_at);
        if age >= TTL {
            Lookup::Miss(stamp)
        } else if age >= page.refresh_after && !page.refreshing.swap(true, Ordering::AcqRel) {
            Lookup::Refresh(page, stamp)
        } else {
            Lookup::Fresh(page)
        }
    }

    /// Stores a page read from the database after `stamp` was taken (unless a write on its
    /// article came in between, or the page is too large for the cache) and returns it.
    /// `read_at` is when its oldest part was read (the article's row may come from the cache of
    /// rows): the page ages from then.
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
        if page.size() > self.max_bytes / 8 {
            return page;
        }
        self.versions.admit(
            stamp.0,
            [(article_id.to_string(), page.clone())],
            |id, page| {
                // The article's other pages that are still fresh, with this one.
                let mut pages = match self.articles.get(&id) {
                    Some(kept) => ArticlePages::clone(&kept),
                    None => ArticlePages::default(),
                };
                pages.pages.retain(|_, p| age(read_at, p.stored_at) < TTL);
                pages.pages.insert(key.clone(), page);
                pages.bytes = pages.pages.values().map(|p| p.size() as u64).sum();
                self.articles.insert(id, Arc::new(pages));
            },
        );
        page
    }

    /// Drops every page of an article (a write on this process), so that a page read before the
    /// write is not stored after it.
    pub fn invalidate(&self, article_id: &str) {
        self.versions.forget(article_id);
        self.articles.remove(article_id);
    }

    /// The bytes the cache holds.
    pub fn bytes(&self) -> usize {
        self.articles.weight() as usize
    }

    /// How many articles have pages cached.
    pub fn entries(&self) -> usize {
        self.articles.len()
    }
}
