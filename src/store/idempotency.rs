//! Stored responses for `Idempotency-Key`: a retry, even after a restart, gets the first response.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use sha2::{Digest, Sha256};

use crate::entity::idempotency_key;

/// The fingerprint of a request: what it addresses and its exact body.
pub fn request_hash(target: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(target.as_bytes());
    hasher.update([0u8]);
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &str,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    idempotency_key::Entity::find_by_id((caller.to_string(), key.to_string()))
        .one(db)
        .await
}

/// Records the response to a keyed request, in the transaction that made it.
pub async fn record(
    db: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    request_hash: &str,
    status_code: u16,
    response_body: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    idempotency_key::ActiveModel {
        caller: Set(caller.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status_code: Set(status_code as i32),
        response_body: Set(response_body.to_string()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}
