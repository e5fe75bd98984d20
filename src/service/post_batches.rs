//! New comments written in batches: one write transaction for the posts that arrived while the
//! previous one ran.
//!
//! A post's write transaction was the serial part of posting: on SQLite the process's writers
//! take turns, and each statement is a hand-off to the connection's thread and back; on
//! PostgreSQL each statement is a round trip and each commit a flush of the log. A batch takes
//! the turns of all its authors in one statement, reads their recent comments in one, screens
//! each post in order (a post sees the ones before it in the batch, so the rate limit and the
//! repeat-post rule hold exactly as they do one by one), inserts every accepted post in one
//! statement and commits once. When the batch's transaction fails as a whole, each post is
//! written on its own (see `comments::write_one`), so one post's failure never takes the others
//! with it.

use std::collections::HashSet;
use std::sync::{Arc, Weak};

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::db;
use crate::domain::states::CommentStatus;
use crate::entity::{article, author};
use crate::error::ApiError;
use crate::moderation::Findings;
use crate::moderation::live::Loaded;
use crate::service::comments::{Written, created_response};
use crate::service::idempotency::{self, KeyedRequest};
use crate::service::{rate_limit, screening};
use crate::state::AppState;
use crate::store::{authors, comments};

/// Posts written in one transaction at most.
pub const MAX_BATCH: usize = 64;
/// Posts waiting for a batch at most; more wait to be queued (back-pressure).
const QUEUE: usize = 1024;

/// One post, checked as far as it can be outside the write transaction.
pub struct Post {
    pub article: article::Model,
    pub author: Option<author::Model>,
    pub row: comments::NewComment,
    pub rules: Arc<Loaded>,
    pub findings: Findings,
    pub now: DateTime<Utc>,
    /// The request's Idempotency-Key: its response is stored with the comment.
    pub keyed: Option<KeyedRequest>,
    /// Whether the caller is a moderator (the stored response shows what they may see).
    pub moderator: bool,
}

struct Queued {
    post: Post,
    reply: oneshot::Sender<Result<Written, ApiError>>,
}

/// Where requests hand their posts to the process's batch writer.
#[derive(Clone)]
pub struct PostQueue {
    tx: mpsc::Sender<Queued>,
}

/// The writer's end, for [`run`].
pub struct PostReceiver {
    rx: mpsc::Receiver<Queued>,
}

pub fn queue() -> (PostQueue, PostReceiver) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (PostQueue { tx }, PostReceiver { rx })
}

impl PostQueue {
    /// Writes the post with the next batch and answers with the stored comment (or, for a key
    /// a concurrent request recorded first, that request's answer), or why it was refused (the
    /// rate limit, the content rules).
    pub async fn write(&self, post: Post) -> Result<Written, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Queued { post, reply })
            .await
            .map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?
    }
}

fn stopping() -> ApiError {
    ApiError::internal(std::io::Error::other("the post writer is stopping"))
}

/// The batch writer of a process: runs until the process's state is gone.
pub async fn run(mut receiver: PostReceiver, state: Weak<AppState>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let Some(state) = state.upgrade() else {
            return;
        };
        write_batch(&state, jobs).await;
    }
}

async fn write_batch(state: &AppState, jobs: Vec<Queued>) {
    match try_batch(state, &jobs).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let outcome = match outcome {
                    Some(outcome) => outcome,
                    None => super::comments::write_one(state, &job.post).await,
                };
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            if jobs.len() > 1 {
                tracing::warn!(posts = jobs.len(), error = ?e, "a batch of posts failed; writing each on its own");
            }
            for job in jobs {
                let outcome = super::comments::write_one(state, &job.post).await;
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// The batch in one transaction: the outcome of each post, in order (`None`: written on its own
/// after the batch); `Err` when the transaction failed and nothing was written.
///
/// A keyed post is left for after the batch when its key came earlier in the batch, or when the
/// rules refuse it (a retry of a post another request stored first is a repeat): on its own it
/// first looks for that request's answer.
async fn try_batch(
    state: &AppState,
    jobs: &[Queued],
) -> Result<Vec<Option<Result<Written, ApiError>>>, ApiError> {
    let txn = db::begin_write(&state.db, &state.write_gate).await?;
    let author_ids: Vec<&str> = jobs.iter().map(|j| j.post.row.author_id.as_str()).collect();
    rate_limit::take_turns(&txn, &author_ids).await?;
    let readers: Vec<&str> = jobs
        .iter()
        .filter(|j| screening::reads_recent(&j.post.rules, &j.post.findings, &subject(&j.post)))
        .map(|j| j.post.row.author_id.as_str())
        .collect();
    let since = jobs
        .iter()
        .map(|j| j.post.now - screening::recent_window(&j.post.rules))
        .min()
        .unwrap_or_else(Utc::now);
    let mut recent = authors::recent_of_many(&*txn, &readers, since).await?;

    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut accepted: Vec<(usize, screening::Screened)> = Vec::new();
    let mut rows = Vec::new();
    let mut keys: HashSet<(&str, &str)> = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        let post = &job.post;
        if let Some(keyed) = &post.keyed
            && !keys.insert((keyed.caller.as_str(), keyed.key.as_str()))
        {
            outcomes.push(Outcome::Later);
            continue;
        }
        let mine = recent.entry(post.row.author_id.clone()).or_default();
        let screened = screening::screen_with_recent(
            &*txn,
            state,
            &post.rules,
            &post.findings,
            subject(post),
            post.now,
            mine,
        )
        .await;
        match screened {
            Ok(screened) => {
                // Later posts of the batch by the same author see this one, newest first.
                mine.insert(0, (post.now, post.row.body.clone()));
                let mut row = post.row.clone();
                row.status = screened.status;
                row.detections = screened.detections_json();
                rows.push((row, post.now));
                accepted.push((i, screened));
                outcomes.push(Outcome::Created);
            }
            Err(ApiError::RateLimited { .. } | ApiError::CommentRejected(_))
                if post.keyed.is_some() =>
            {
                outcomes.push(Outcome::Later);
            }
            Err(e @ (ApiError::RateLimited { .. } | ApiError::CommentRejected(_))) => {
                outcomes.push(Outcome::Refused(e));
            }
            Err(e) => return Err(e),
        }
    }
    let created = comments::insert_many(&*txn, rows).await?;
    for ((i, screened), comment) in accepted.iter().zip(&created) {
        let post = &jobs[*i].post;
        if comment.status == CommentStatus::PendingReview {
            screening::held(&*txn, state, screened, comment, &post.article, post.now).await?;
        }
        if let Some(keyed) = &post.keyed {
            // A key a concurrent request recorded first fails the batch: post by post, that
            // post then gets the first request's answer.
            let response = created_response(comment, post.moderator)?;
            idempotency::record(&*txn, keyed, &response, &comment.author_id, post.now).await?;
        }
    }
    txn.commit().await?;
    let mut created = created.into_iter();
    Ok(outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Refused(e) => Some(Err(e)),
            Outcome::Later => None,
            Outcome::Created => Some(created.next().map(Written::Created).ok_or_else(|| {
                ApiError::internal(std::io::Error::other("a batch lost a comment"))
            })),
        })
        .collect())
}

enum Outcome {
    Created,
    Refused(ApiError),
    Later,
}

fn subject(post: &Post) -> screening::Subject<'_> {
    screening::Subject {
        author_id: &post.row.author_id,
        author: post.author.as_ref(),
        text: &post.row.body,
        editing: None,
    }
}
