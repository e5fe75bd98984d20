//! The one task per process that reads `live_events` in id order and hands each row's frame to
//! its article's subscribers (see the module's notes).
//!
//! PostgreSQL draws ids when a row is inserted, not when its transaction commits, so a row with
//! a lower id can become visible after a higher one. The pump sends every row once, as soon as
//! it sees it, and reads again from the highest id below which it has seen them all; a missing
//! id that does not appear within [`GAP_WAIT`] was rolled back, and the pump stops waiting for
//! it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use sea_orm::DbErr;

use super::render;
use crate::state::AppState;
use crate::store::live::{self as store, LiveRow};

/// How long the pump sleeps when nobody wakes it.
const POLL: Duration = Duration::from_secs(1);
/// How long a missing id is waited for.
const GAP_WAIT: Duration = Duration::from_secs(5);
/// Rows read per statement.
const BATCH: u64 = 1000;
/// Rows kept for readers who reconnect (older ones get `reset`).
const KEEP: i64 = 100_000;

/// Which ids the pump has handled: all up to `floor`, and `above` beyond it.
#[derive(Debug, Default)]
struct Seen {
    floor: i64,
    above: BTreeSet<i64>,
    /// Since when the pump waits for the id after `floor`.
    gap_since: Option<Instant>,
}

impl Seen {
    fn new(floor: i64) -> Seen {
        Seen {
            floor,
            ..Seen::default()
        }
    }

    /// Whether `id` is new; records it.
    fn first_time(&mut self, id: i64) -> bool {
        id > self.floor && self.above.insert(id)
    }

    /// Moves the floor over what has been seen without a gap, and over a gap older than
    /// `GAP_WAIT`.
    fn advance(&mut self, now: Instant) {
        loop {
            while self.above.first() == Some(&(self.floor + 1)) {
                self.above.pop_first();
                self.floor += 1;
            }
            let Some(&next) = self.above.first() else {
                self.gap_since = None;
                return;
            };
            let since = *self.gap_since.get_or_insert(now);
            if now.duration_since(since) < GAP_WAIT {
                return;
            }
            self.floor = next - 1;
            self.gap_since = None;
        }
    }
}

/// At most one `reactions` event per comment in this time.
const REACTIONS_EVERY: Duration = Duration::from_secs(1);

/// The `reactions` rows waiting for their comment's next turn, and when each comment's last
/// went out.
#[derive(Debug, Default)]
struct Reactions {
    waiting: HashMap<Option<i64>, LiveRow>,
    sent: HashMap<Option<i64>, Instant>,
    /// The count each comment's last `reactions` event carried.
    counts: HashMap<i64, i64>,
}

impl Reactions {
    /// Takes `rows`' reactions rows in (the newest of each comment waits) and gives back the
    /// other rows with the waiting reactions rows whose turn has come, in id order.
    fn due(&mut self, rows: Vec<LiveRow>, now: Instant) -> Vec<LiveRow> {
        let (reactions, mut out): (Vec<LiveRow>, Vec<LiveRow>) =
            rows.into_iter().partition(|r| r.kind == "reactions");
        for row in reactions {
            self.waiting.insert(row.comment_id, row);
        }
        self.sent
            .retain(|_, at| now.duration_since(*at) < REACTIONS_EVERY);
        let ready: Vec<Option<i64>> = self
            .waiting
            .keys()
            .filter(|c| !self.sent.contains_key(*c))
            .copied()
            .collect();
        for comment in ready {
            if let Some(row) = self.waiting.remove(&comment) {
                self.sent.insert(comment, now);
                out.push(row);
            }
        }
        out.sort_by_key(|r| r.id);
        out
    }
}

/// Runs until the state is gone or the streams are shut down.
pub async fn run(state: Weak<AppState>) {
    let Some(live) = state.upgrade().map(|s| s.live().clone()) else {
        return;
    };
    let mut shutdown = live.shutdown.subscribe();
    let mut seen = None;
    let mut reactions = Reactions::default();
    let mut rounds: u64 = 0;
    loop {
        let Some(state) = state.upgrade() else { return };
        match pass(&state, &mut seen, &mut reactions).await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "reading the live events failed"),
        }
        rounds += 1;
        if rounds.is_multiple_of(600)
            && let Err(e) = store::prune(state.db(), KEEP).await
        {
            tracing::warn!(error = %e, "pruning the live events failed");
        }
        drop(state);
        tokio::select! {
            _ = live.wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Reads and sends what is new since the last pass (the first pass only finds where to start).
async fn pass(
    state: &Arc<AppState>,
    seen: &mut Option<Seen>,
    reactions: &mut Reactions,
) -> Result<(), DbErr> {
    // The start-up read where the table ended (see `Live::start_at`).
    let seen = seen.get_or_insert_with(|| Seen::new(state.live().position()));
    loop {
        let rows = store::after(state.db(), seen.floor, BATCH).await?;
        let full = rows.len() as u64 == BATCH;
        let new: Vec<LiveRow> = rows.into_iter().filter(|r| seen.first_time(r.id)).collect();
        let any = !new.is_empty();
        if let Some(last) = new.iter().map(|r| r.id).max() {
            state.live().passed(last);
        }
        let due = reactions.due(new, Instant::now());
        deliver(state, &due, &mut reactions.counts).await?;
        seen.advance(Instant::now());
        if !full || !any {
            return Ok(());
        }
    }
}

/// Forgets what the process cached of the rows' articles, then sends the rows followed here.
async fn deliver(
    state: &Arc<AppState>,
    rows: &[LiveRow],
    counts_sent: &mut HashMap<i64, i64>,
) -> Result<(), DbErr> {
    let mut articles = HashSet::new();
    for row in rows {
        if articles.insert(row.article_id.as_str()) {
            state.forget_article(
                &row.article_id,
                matches!(row.kind.as_str(), "closed" | "reopened"),
            );
        }
    }
    let live = state.live();
    let followed: Vec<LiveRow> = rows
        .iter()
        .filter(|r| live.is_followed(&r.article_id))
        .cloned()
        .collect();
    for frame in render::frames(state.db(), &followed, counts_sent).await? {
        let article = followed
            .iter()
            .find(|r| r.id == frame.id)
            .map(|r| r.article_id.clone())
            .unwrap_or_default();
        live.publish(&article, Arc::new(frame));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, kind: &str, comment: i64) -> LiveRow {
        LiveRow {
            id,
            article_id: "a".into(),
            kind: kind.into(),
            comment_id: Some(comment),
        }
    }

    #[test]
    fn reactions_go_out_at_most_once_a_second_per_comment_with_the_newest_count() {
        let start = Instant::now();
        let mut r = Reactions::default();
        let ids = |rows: Vec<LiveRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
        let first = vec![
            row(1, "reactions", 7),
            row(2, "created", 8),
            row(3, "reactions", 7),
        ];
        assert_eq!(
            ids(r.due(first, start)),
            vec![2, 3],
            "the newest of comment 7"
        );
        let soon = start + REACTIONS_EVERY / 2;
        let again = vec![row(4, "reactions", 7), row(5, "reactions", 9)];
        assert_eq!(ids(r.due(again, soon)), vec![5], "7 waits for its turn");
        assert_eq!(
            ids(r.due(vec![row(6, "reactions", 7)], soon)),
            Vec::<i64>::new()
        );
        assert_eq!(
            ids(r.due(Vec::new(), start + REACTIONS_EVERY)),
            vec![6],
            "then the newest waiting"
        );
    }

    #[test]
    fn the_floor_follows_ids_without_gaps_and_waits_for_a_missing_one_for_a_while() {
        let start = Instant::now();
        let mut seen = Seen::new(10);
        assert!(!seen.first_time(10), "up to the floor is old");
        assert!(seen.first_time(11) && seen.first_time(13));
        assert!(!seen.first_time(13), "each id once");
        seen.advance(start);
        assert_eq!(seen.floor, 11, "12 is missing");
        seen.advance(start + GAP_WAIT / 2);
        assert_eq!(seen.floor, 11, "still waiting for 12");
        assert!(seen.first_time(12), "12 committed late: it is sent");
        seen.advance(start + GAP_WAIT / 2);
        assert_eq!(seen.floor, 13);
        assert!(seen.first_time(15));
        seen.advance(start);
        seen.advance(start + GAP_WAIT);
        assert_eq!(seen.floor, 15, "14 was rolled back");
        assert!(seen.above.is_empty() && seen.gap_since.is_none());
    }
}
