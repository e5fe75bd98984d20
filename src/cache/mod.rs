//! What a process keeps of what it read, for up to a second: pages of comments, article rows,
//! topic rows and topics' newest articles.
//!
//! Storage and eviction are `quick_cache`'s (bounded by bytes for pages, by count for rows).
//! Freshness is ours, on the service's clock: a value is served for at most `TTL` after it was
//! read from the database (so another replica's writes show within a second), and tests move
//! the clock instead of waiting. A change on this process forgets the changed key at once, and
//! one guard ([`Versions`]) refuses to store a value of that key read before the change; values
//! of other keys still are (a post forgets its article's row, and posts must not keep a front
//! page's rows from being stored).

mod expiring;
mod pages;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use expiring::{ArticleRow, ArticleRows, Expiring, Found, TopicArticles, TopicRows};
pub use pages::{CachedPage, Lookup, PageBody, PageCache, PageKey, Stamp};

/// How long a value may be served without asking the database.
pub const TTL: Duration = Duration::from_secs(1);
/// From this age on, a request starts a refresh in the background.
pub const REFRESH_AFTER: Duration = Duration::from_millis(550);
/// Each page's refresh age is `REFRESH_AFTER` plus a random part of this.
pub const REFRESH_JITTER: Duration = Duration::from_millis(350);

/// Topics kept at most (far more than a newsroom has).
pub const MAX_TOPICS: usize = 4096;
/// Articles kept at most: about 8 MB of rows.
pub const MAX_ARTICLES: usize = 20_000;
/// Forgotten keys remembered at most; past that, every read from before is refused instead.
const MAX_FORGOTTEN: usize = 4096;

/// How old something read at `at` is at `now`, on the service's clock. Should the clock have
/// gone back past `at`, it counts as expired: a value is never served longer than `TTL` because
/// of a clock step.
fn age(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (now - at).to_std().unwrap_or(Duration::MAX)
}

/// The guard against storing a read older than a write, one per cache: every change moves the
/// generation on; a reader takes the generation (its stamp) before it reads, and what it read
/// is stored only if its key was not forgotten after that stamp (nor everything cleared).
struct Versions {
    generation: AtomicU64,
    since: Mutex<Forgotten>,
}

#[derive(Default)]
struct Forgotten {
    /// The generation each recently forgotten key was forgotten at.
    keys: HashMap<String, u64>,
    /// Reads with a stamp older than this are not stored at all (set by `clear`, and when
    /// `keys` grew too large to keep).
    stale_before: u64,
}

impl Versions {
    fn new() -> Versions {
        Versions {
            generation: AtomicU64::new(0),
            since: Mutex::new(Forgotten::default()),
        }
    }

    /// The stamp to store what is read from now on with.
    fn stamp(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// `key` changed: reads of it stamped before now are refused.
    fn forget(&self, key: &str) {
        if let Ok(mut since) = self.since.lock() {
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            if since.keys.len() >= MAX_FORGOTTEN {
                since.keys.clear();
                since.stale_before = generation;
            }
            since.keys.insert(key.to_string(), generation);
        }
    }

    /// Everything changed: every read stamped before now is refused.
    fn clear(&self) {
        if let Ok(mut since) = self.since.lock() {
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            since.keys.clear();
            since.stale_before = generation;
        }
    }

    /// Whether a read of `key` stamped `stamp` may be stored (checked with `keys` in one lock by
    /// [`Versions::admit`]).
    fn admits(since: &Forgotten, generation: u64, key: &str, stamp: u64) -> bool {
        stamp >= since.stale_before
            && stamp <= generation
            && since.keys.get(key).is_none_or(|&at| at <= stamp)
    }

    /// Stores each of `values` read with `stamp` that may be stored, with `store`, while no
    /// change can come in between.
    fn admit<V>(
        &self,
        stamp: u64,
        values: impl IntoIterator<Item = (String, V)>,
        mut store: impl FnMut(String, V),
    ) {
        let Ok(since) = self.since.lock() else {
            return;
        };
        let generation = self.stamp();
        for (key, value) in values {
            if Self::admits(&since, generation, &key, stamp) {
                store(key, value);
            }
        }
    }
}
