//! Where requests hand their new comments to the process's batch writer (see `post_batches`),
//! and what a post came to.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::entity::{article, author, comment};
use crate::error::ServiceError;
use crate::moderation::Findings;
use crate::moderation::live::Loaded;
use crate::service::idempotency::{KeyedRequest, StoredResponse};
use crate::store::comments;
use crate::views::dto;

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

/// What a post came to.
pub enum Written {
    Created(Box<comment::Model>),
    /// The Idempotency-Key was recorded by a concurrent request: its answer.
    Answered(StoredResponse),
}

pub(crate) struct Queued {
    pub(crate) post: Post,
    pub(crate) reply: oneshot::Sender<Result<Written, ServiceError>>,
}

/// Where requests hand their posts to the process's batch writer.
#[derive(Clone)]
pub struct PostQueue {
    tx: mpsc::Sender<Queued>,
}

/// The writer's end, for `post_batches::run`.
pub struct PostReceiver {
    pub(crate) rx: mpsc::Receiver<Queued>,
}

pub fn queue() -> (PostQueue, PostReceiver) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (PostQueue { tx }, PostReceiver { rx })
}

impl PostQueue {
    /// Writes the post with the next batch and answers with the stored comment (or, for a key
    /// a concurrent request recorded first, that request's answer), or why it was refused (the
    /// rate limit, the content rules).
    pub async fn write(&self, post: Post) -> Result<Written, ServiceError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Queued { post, reply })
            .await
            .map_err(|_| stopping())?;
        answer.await.map_err(|_| stopping())?
    }
}

fn stopping() -> ServiceError {
    ServiceError::internal(std::io::Error::other("the post writer is stopping"))
}

/// The answer to a new comment (201, the comment as its author sees it), as a keyed request
/// stores it for its repeats.
pub(crate) fn created_response(
    created: &comment::Model,
    moderator: bool,
) -> Result<StoredResponse, ServiceError> {
    Ok(StoredResponse {
        status: 201,
        body: serde_json::to_string(&dto::Comment::own(created, 0, moderator))
            .map_err(ServiceError::internal)?,
        replayed: false,
    })
}
