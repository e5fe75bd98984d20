//! New comments written in batches: one write transaction for the posts that arrived while the
//! previous one ran.
//!
//! A post's write transaction was the serial part of posting: on SQLite the process's writers
//! take turns, and each statement is a hand-off to the connection's thread and back; on
//! PostgreSQL each statement is a round trip and each commit a flush of the log. A batch takes
//! the turns of all its authors in one statement, reads their recent comments in one, screens
//! each post in order (a post sees the ones before it in the batch, so the rate limit and the
//! repeat-post rule hold exactly as they do one by one), inserts every accepted post in one
//! statement and commits once. Both take each post through the same [`accept`] step. When the batch's transaction fails as a whole, each post is
//! written on its own ([`write_one`]), so one post's failure never takes the others
//! with it.

use std::collections::HashSet;
use std::sync::Weak;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;

use crate::domain::states::CommentStatus;
use crate::entity::comment;
use crate::error::ServiceError;
use crate::service::idempotency;
use crate::service::post_queue::{Post, PostReceiver, Queued, Written, created_response};
use crate::service::{rate_limit, screening};
use crate::state::AppState;
use crate::store::{authors, comments};

/// Posts written in one transaction at most.
pub const MAX_BATCH: usize = 64;

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
                    None => write_one(state, &job.post).await,
                };
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            if jobs.len() > 1 {
                tracing::warn!(posts = jobs.len(), error = ?e, "a batch of posts failed; writing each on its own");
            }
            for job in jobs {
                let outcome = write_one(state, &job.post).await;
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// The author's recent comments, newest first, as screening reads them.
type Recent = Vec<(DateTime<Utc>, String)>;

/// A post the content rules let in: the row to insert and the rules' verdict.
struct Accepted {
    row: comments::NewComment,
    screened: screening::Screened,
}

/// The one step every post takes in its write transaction, in a batch or on its own: the
/// content rules' verdict given the author's recent comments (`recent`, to which an accepted
/// post is added, newest first, so the author's later posts in a batch see it), and the row
/// to insert with the status and detections it gave.
async fn accept(
    txn: &DatabaseTransaction,
    state: &AppState,
    post: &Post,
    recent: &mut Recent,
) -> Result<Accepted, ServiceError> {
    let screened = screening::screen_with_recent(
        txn,
        state,
        &post.rules,
        &post.findings,
        subject(post),
        post.now,
        recent,
    )
    .await?;
    recent.insert(0, (post.now, post.row.body.clone()));
    let mut row = post.row.clone();
    row.status = screened.status;
    row.detections = screened.detections_json();
    Ok(Accepted { row, screened })
}

/// What an accepted post writes after its insert, in the same transaction: a held comment's
/// decision and event.
async fn inserted(
    txn: &DatabaseTransaction,
    state: &AppState,
    post: &Post,
    accepted: &Accepted,
    comment: &comment::Model,
) -> Result<(), ServiceError> {
    if comment.status == CommentStatus::PendingReview {
        screening::held(
            txn,
            state,
            &accepted.screened,
            comment,
            &post.article,
            post.now,
        )
        .await?;
    }
    Ok(())
}

/// The recent comments of `authors` (those whose posts read them) in the window of the
/// posts' rules, newest first.
async fn recent_of(
    txn: &DatabaseTransaction,
    posts: &[&Post],
) -> Result<std::collections::HashMap<String, Recent>, ServiceError> {
    let readers: Vec<&str> = posts
        .iter()
        .filter(|p| screening::reads_recent(&p.rules, &p.findings, &subject(p)))
        .map(|p| p.row.author_id.as_str())
        .collect();
    let since = posts
        .iter()
        .map(|p| p.now - screening::recent_window(&p.rules))
        .min()
        .unwrap_or_else(Utc::now);
    Ok(authors::recent_of_many(txn, &readers, since).await?)
}

/// One post in its own write transaction, for a batch that failed as a whole or a post the
/// batch left for later: the author's turn, then the rate limit's count, the rules and the
/// insert they allow, atomic per author (see `rate_limit`); the comment and the stored response
/// of a keyed request commit together. The database counts a visible comment on its article in
/// the insert.
async fn write_one(state: &AppState, post: &Post) -> Result<Written, ServiceError> {
    if let Some(keyed) = &post.keyed
        && let Some(stored) = idempotency::replay(state.db(), keyed).await?
    {
        return Ok(Written::Answered(stored));
    }
    let txn = state.begin_write().await?;
    rate_limit::take_turn(&txn, &post.row.author_id).await?;
    let mut recent = recent_of(&txn, &[post])
        .await?
        .remove(&post.row.author_id)
        .unwrap_or_default();
    let accepted = match accept(&txn, state, post, &mut recent).await {
        Ok(accepted) => accepted,
        // The same request, stored by another process since the check above, is a repeat.
        Err(e @ (ServiceError::RateLimited { .. } | ServiceError::CommentRejected(_))) => {
            drop(txn);
            return match &post.keyed {
                Some(keyed) => match idempotency::replay(state.db(), keyed).await? {
                    Some(stored) => Ok(Written::Answered(stored)),
                    None => Err(e),
                },
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let created = comments::insert(&*txn, accepted.row.clone(), post.now).await?;
    inserted(&txn, state, post, &accepted, &created).await?;
    if let Some(keyed) = &post.keyed {
        let response = created_response(&created, post.moderator)?;
        if let Err(e) =
            idempotency::record(&*txn, keyed, &response, &created.author_id, post.now).await
        {
            drop(txn);
            let answer = idempotency::answer_after_failed_record(state.db(), keyed, e).await?;
            return Ok(Written::Answered(answer));
        }
    }
    txn.commit().await?;
    Ok(Written::Created(Box::new(created)))
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
) -> Result<Vec<Option<Result<Written, ServiceError>>>, ServiceError> {
    let txn = state.begin_write().await?;
    let author_ids: Vec<&str> = jobs.iter().map(|j| j.post.row.author_id.as_str()).collect();
    rate_limit::take_turns(&txn, &author_ids).await?;
    let posts: Vec<&Post> = jobs.iter().map(|j| &j.post).collect();
    let mut recent = recent_of(&txn, &posts).await?;

    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut accepted: Vec<(&Post, Accepted)> = Vec::new();
    let mut keys: HashSet<(&str, &str)> = HashSet::new();
    for post in posts {
        if let Some(keyed) = &post.keyed
            && !keys.insert((keyed.caller.as_str(), keyed.key.as_str()))
        {
            outcomes.push(Outcome::Later);
            continue;
        }
        let mine = recent.entry(post.row.author_id.clone()).or_default();
        match accept(&txn, state, post, mine).await {
            Ok(ok) => {
                accepted.push((post, ok));
                outcomes.push(Outcome::Created);
            }
            Err(ServiceError::RateLimited { .. } | ServiceError::CommentRejected(_))
                if post.keyed.is_some() =>
            {
                outcomes.push(Outcome::Later);
            }
            Err(e @ (ServiceError::RateLimited { .. } | ServiceError::CommentRejected(_))) => {
                outcomes.push(Outcome::Refused(e));
            }
            Err(e) => return Err(e),
        }
    }
    let rows = accepted
        .iter()
        .map(|(post, a)| (a.row.clone(), post.now))
        .collect();
    let created = comments::insert_many(&*txn, rows).await?;
    for ((post, a), comment) in accepted.iter().zip(&created) {
        inserted(&txn, state, post, a, comment).await?;
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
            Outcome::Created => Some(
                created
                    .next()
                    .map(|c| Written::Created(Box::new(c)))
                    .ok_or_else(|| {
                        ServiceError::internal(std::io::Error::other("a batch lost a comment"))
                    }),
            ),
        })
        .collect())
}

enum Outcome {
    Created,
    Refused(ServiceError),
    Later,
}

fn subject(post: &Post) -> screening::Subject<'_> {
    screening::Subject {
        author_id: &post.row.author_id,
        author: post.author.as_ref(),
        text: &post.row.body,
        article_premod: post.article.premod,
        editing: None,
    }
}
