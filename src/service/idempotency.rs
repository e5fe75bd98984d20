//! `Idempotency-Key`: a retried request, even after a restart, gets the first response and
//! creates nothing. The response is stored in the transaction of the write it answers.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db;
use crate::entity::idempotency_key;
use crate::error::ServiceError;
use crate::store::idempotency;

/// A keyed request: who sent it, the key, and the fingerprint of what it asked.
pub struct KeyedRequest {
    pub caller: String,
    pub key: String,
    pub hash: String,
}

impl KeyedRequest {
    pub fn new(caller: &str, key: String, target: &str, body: &[u8]) -> KeyedRequest {
        KeyedRequest {
            caller: caller.to_string(),
            key,
            hash: idempotency::request_hash(target, body),
        }
    }
}

/// A response to send: the status and the JSON body; `replayed` when it is the stored response of
/// an earlier request with the same key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

/// The stored response to an earlier request with the same key, if there is one; a conflict when
/// that request was a different one.
pub async fn replay(
    db: &impl ConnectionTrait,
    request: &KeyedRequest,
) -> Result<Option<StoredResponse>, ServiceError> {
    match idempotency::find(db, &request.caller, &request.key).await? {
        Some(stored) => answer(&stored, request).map(Some),
        None => Ok(None),
    }
}

fn answer(
    stored: &idempotency_key::Model,
    request: &KeyedRequest,
) -> Result<StoredResponse, ServiceError> {
    if stored.request_hash != request.hash {
        return Err(ServiceError::IdempotencyConflict);
    }
    Ok(StoredResponse {
        status: u16::try_from(stored.status_code).map_err(ServiceError::internal)?,
        body: stored.response_body.clone(),
        replayed: true,
    })
}

/// Stores the response of a keyed request in the caller's transaction, under the author of the
/// comment it holds (an erasure of that author drops it).
pub async fn record(
    txn: &impl ConnectionTrait,
    request: &KeyedRequest,
    response: &StoredResponse,
    author_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let recorded = idempotency::Recorded {
        caller: &request.caller,
        key: &request.key,
        request_hash: &request.hash,
        status_code: response.status,
        response_body: &response.body,
        author_id,
    };
    idempotency::record(txn, recorded, now).await
}

/// What to answer when `record` failed, after its transaction was dropped: when a concurrent
/// request with the same key committed first, that request's response.
pub async fn answer_after_failed_record(
    db: &impl ConnectionTrait,
    request: &KeyedRequest,
    error: DbErr,
) -> Result<StoredResponse, ServiceError> {
    if db::is_unique_violation(&error)
        && let Some(first) = replay(db, request).await?
    {
        return Ok(first);
    }
    Err(error.into())
}
