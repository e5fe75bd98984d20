//! One reader's stream: what it is sent first (its `retry`, its id, what it missed), then its
//! article's frames as the pump publishes them, a heartbeat when nothing happened for a while,
//! and the end when the process stops.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::Subscription;
use super::render::reset_frame;

/// How often a stream with nothing to send is sent a comment line, so proxies keep it open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// What a stream starts with.
pub struct Opening {
    /// Frames sent before any broadcast one.
    pub frames: VecDeque<Bytes>,
    /// Broadcast frames up to this id were sent already (the reader's `Last-Event-ID`).
    pub seen_upto: i64,
    /// Broadcast frames the opening holds too (each is sent once).
    pub replayed: HashSet<i64>,
}

struct Reader {
    subscription: Subscription,
    opening: Opening,
    heartbeat: tokio::time::Interval,
}

/// The body of a reader's response.
pub fn body(
    subscription: Subscription,
    opening: Opening,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let reader = Reader {
        subscription,
        opening,
        heartbeat: interval,
    };
    futures_util::stream::unfold(reader, |mut reader| async move {
        let next = reader.next().await?;
        Some((Ok(next), reader))
    })
}

impl Reader {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(frame) = self.opening.frames.pop_front() {
            return Some(frame);
        }
        loop {
            if *self.subscription.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                received = self.subscription.receiver.recv() => match received {
                    Ok(frame) => {
                        if frame.id <= self.opening.seen_upto || self.opening.replayed.remove(&frame.id) {
                            continue;
                        }
                        self.heartbeat.reset();
                        return Some(frame.bytes.clone());
                    }
                    // Too far behind: the reader reloads the thread.
                    Err(RecvError::Lagged(_)) => return Some(reset_frame()),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.heartbeat.tick() => return Some(Bytes::from_static(b": heartbeat\n\n")),
                _ = self.subscription.shutdown.changed() => return None,
            }
        }
    }
}
