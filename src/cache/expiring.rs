//! Rows by key (articles, topics, topics' newest articles), each kept for `TTL` after it was
//! read, for reads that may be up to a second old (as cached pages are); whoever uses one still
//! computes the discussion's state at that instant. Rows past their refresh age are queued for
//! one background read of them all (see [`Expiring::take_due`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::{REFRESH_AFTER, TTL, Versions, age};
use crate::entity::{article, topic};

/// Values by key, bounded by their count (see the module's notes).
pub struct Expiring<V> {
    values: quick_cache::sync::Cache<String, Arc<Entry<V>>>,
    versions: Versions,
    /// Keys found past `REFRESH_AFTER`, for the background refresh.
    due: Mutex<Vec<String>>,
}

struct Entry<V> {
    at: DateTime<Utc>,
    value: V,
    /// Already in `due`.
    queued: AtomicBool,
}

impl<V: Clone> Entry<V> {
    /// The value if it is fresh at `now`, and whether it has just come due for the background
    /// refresh (then it is marked queued; only if `may_queue`).
    fn fresh(&self, now: DateTime<Utc>, may_queue: bool) -> Option<(V, bool)> {
        let age = age(now, self.at);
        if age >= TTL {
            return None;
        }
        let due = may_queue && age >= REFRESH_AFTER && !self.queued.swap(true, Ordering::AcqRel);
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

impl<V: Clone> Expiring<V> {
    pub fn new(max: usize) -> Expiring<V> {
        Expiring {
            values: quick_cache::sync::Cache::new(max.max(1)),
            versions: Versions::new(),
            due: Mutex::new(Vec::new()),
        }
    }

    fn room_to_queue(&self) -> bool {
        self.due.lock().is_ok_and(|due| due.len() < MAX_DUE)
    }

    fn queue(&self, mut keys: Vec<String>) {
        if let Ok(mut due) = self.due.lock()
            && due.len() < MAX_DUE
        {
            due.append(&mut keys);
        }
    }

    /// The value of `key` if it is fresh at `now`.
    pub fn get(&self, key: &str, now: DateTime<Utc>) -> Option<V> {
        let entry = self.values.get(key)?;
        (age(now, entry.at) < TTL).then(|| entry.value.clone())
    }

    /// The fresh value of `key` with when it was read (queued for the background refresh when
    /// it is past its refresh age), and the stamp to store a value read instead with.
    pub fn get_one(&self, key: &str, now: DateTime<Utc>) -> (Option<(V, DateTime<Utc>)>, u64) {
        let stamp = self.versions.stamp();
        let Some(entry) = self.values.get(key) else {
            return (None, stamp);
        };
        let Some((value, due)) = entry.fresh(now, self.room_to_queue()) else {
            return (None, stamp);
        };
        if due {
            self.queue(vec![key.to_string()]);
        }
        (Some((value, entry.at)), stamp)
    }

    /// The values of `keys` fresh at `now`, and which of them must be read.
    pub fn get_many(&self, keys: &[String], now: DateTime<Utc>) -> Found<V> {
        let mut found = Found {
            hits: HashMap::with_capacity(keys.len()),
            misses: Vec::new(),
            stamp: self.versions.stamp(),
        };
        let mut due = Vec::new();
        for key in keys {
            let fresh = self
                .values
                .get(key.as_str())
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
        if !due.is_empty() {
            self.queue(due);
        }
        found
    }

    /// The keys found past their refresh age since the last call, and the stamp to store them
    /// with: read together by a background task, they are fresh again before they expire.
    pub fn take_due(&self) -> (Vec<String>, u64) {
        let stamp = self.versions.stamp();
        match self.due.lock() {
            Ok(mut due) => (std::mem::take(&mut *due), stamp),
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
        self.versions.admit(stamp, values, |key, value| {
            let queued = AtomicBool::new(false);
            self.values
                .insert(key, Arc::new(Entry { at, value, queued }));
        });
    }

    /// Stores one value read at `at`, unless its key changed since `stamp`.
    pub fn put_one(&self, stamp: u64, at: DateTime<Utc>, key: &str, value: V) -> V {
        self.put(stamp, at, [(key.to_string(), value.clone())]);
        value
    }

    /// The stamp to `put` with what is read from now on.
    pub fn stamp(&self) -> u64 {
        self.versions.stamp()
    }

    /// Forgets one key (it changed on this process).
    pub fn forget(&self, key: &str) {
        self.versions.forget(key);
        self.values.remove(key);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.versions.clear();
        self.values.clear();
        if let Ok(mut due) = self.due.lock() {
            due.clear();
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
