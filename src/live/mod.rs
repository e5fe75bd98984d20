//! Live discussions: what readers of a thread see change while they read it, as Server-Sent
//! Events on `GET /live/articles/{id}`.
//!
//! Every change a reader can see is a row of `live_events`, written by the database's triggers
//! in the transaction of the change (see `store::live`). One task per process, the
//! [`pump`], reads the new rows in id order, forgets what the process cached about their
//! articles, renders each row once as an SSE frame and hands it to the article's subscribers
//! through a broadcast channel. The pump wakes when this process wrote (see
//! [`Live::wake`]), when PostgreSQL notifies that another replica did ([`listen`]), and once a
//! second regardless, so a lost notification costs at most a second.
//!
//! A reader reconnecting with `Last-Event-ID` is sent the article's rows after that id from the
//! table before the broadcast ones (each once), or `reset` when the table no longer reaches back
//! that far.

pub mod listen;
pub mod pump;
pub mod render;
pub mod stream;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use tokio::sync::{Notify, broadcast, watch};

/// One event as every subscriber is sent it.
#[derive(Debug)]
pub struct Frame {
    /// The `live_events` row's id, the event's `id:`.
    pub id: i64,
    /// The whole frame: `id:`, `event:`, `data:` and the blank line.
    pub bytes: Bytes,
}

/// How many frames an article's channel keeps for a subscriber that is behind; one further
/// behind is sent `reset` (it reloads the thread).
const CHANNEL_FRAMES: usize = 1024;

/// The live streams of one process.
pub struct Live {
    channels: Mutex<HashMap<String, broadcast::Sender<Arc<Frame>>>>,
    subscribers: AtomicUsize,
    max_subscribers: usize,
    /// The highest id the pump has handed to the channels.
    position: AtomicI64,
    wake: Notify,
    shutdown: watch::Sender<bool>,
    /// The `application_name` of this process's listening connection on PostgreSQL.
    listener_name: String,
}

impl Live {
    pub fn new(max_subscribers: usize) -> Arc<Live> {
        Arc::new(Live {
            channels: Mutex::new(HashMap::new()),
            subscribers: AtomicUsize::new(0),
            max_subscribers,
            position: AtomicI64::new(0),
            wake: Notify::new(),
            shutdown: watch::Sender::new(false),
            listener_name: format!("comment-service live {:016x}", rand::random::<u64>()),
        })
    }

    /// Tells the pump that this process changed something readers may see.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ends every open stream (the process is stopping) and the pump.
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// How this process's listening connection is named to PostgreSQL (`pg_stat_activity`).
    pub fn listener_name(&self) -> &str {
        &self.listener_name
    }

    /// Open streams of this process.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::Relaxed)
    }

    pub fn position(&self) -> i64 {
        self.position.load(Ordering::SeqCst)
    }

    /// A place among the subscribers of `article_id`, or `None` when the process has its
    /// `LIVE_MAX_SUBSCRIBERS` already.
    pub fn subscribe(self: &Arc<Live>, article_id: &str) -> Option<Subscription> {
        let before = self.subscribers.fetch_add(1, Ordering::SeqCst);
        if before >= self.max_subscribers {
            self.subscribers.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        ::metrics::gauge!(crate::metrics::LIVE_SUBSCRIBERS).set((before + 1) as f64);
        let receiver = {
            let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            channels
                .entry(article_id.to_owned())
                .or_insert_with(|| broadcast::channel(CHANNEL_FRAMES).0)
                .subscribe()
        };
        Some(Subscription {
            live: self.clone(),
            article_id: article_id.to_owned(),
            receiver,
            shutdown: self.shutdown.subscribe(),
        })
    }

    /// Whether any stream of this process follows `article_id`.
    pub fn is_followed(&self, article_id: &str) -> bool {
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.contains_key(article_id)
    }

    /// Hands a frame to the subscribers of its article (none: nothing happens).
    fn publish(&self, article_id: &str, frame: Arc<Frame>) {
        self.position.fetch_max(frame.id, Ordering::SeqCst);
        let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = channels.get(article_id) {
            let _ = sender.send(frame);
        }
    }

    /// Where the pump starts: the newest row when the process started, read before it serves
    /// (a reader who connects then is sent everything after it).
    pub fn start_at(&self, id: i64) {
        self.passed(id);
    }

    /// Moves the position past rows no subscriber is sent (another article's, say).
    fn passed(&self, id: i64) {
        self.position.fetch_max(id, Ordering::SeqCst);
    }

    fn leave(&self, article_id: &str) {
        let before = self.subscribers.fetch_sub(1, Ordering::SeqCst);
        ::metrics::gauge!(crate::metrics::LIVE_SUBSCRIBERS).set((before - 1) as f64);
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if channels
            .get(article_id)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            channels.remove(article_id);
        }
    }
}

/// One open stream's place: its channel, and its count among the subscribers until dropped.
pub struct Subscription {
    live: Arc<Live>,
    article_id: String,
    pub receiver: broadcast::Receiver<Arc<Frame>>,
    pub shutdown: watch::Receiver<bool>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.live.leave(&self.article_id);
    }
}
