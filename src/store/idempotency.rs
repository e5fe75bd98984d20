//! Stored responses for `Idempotency-Key`: a retry, even after a restart, gets the first response.
//! And their purge, with that of spent action links (the other record that only guards replays).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use sha2::{Digest, Sha256};

use crate::db::execute;
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

/// The response to a keyed request, to record in the transaction that made it.
pub struct Recorded<'a> {
    pub caller: &'a str,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status_code: u16,
    pub response_body: &'a str,
    /// The author of the comment the response holds.
    pub author_id: &'a str,
}

/// Records the response to a keyed request, in the transaction that made it.
pub async fn record(
    db: &impl ConnectionTrait,
    recorded: Recorded<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Recorded {
        caller,
        key,
        request_hash,
        status_code,
        response_body,
        author_id,
    } = recorded;
    idempotency_key::ActiveModel {
        caller: Set(caller.to_string()),
        key: Set(key.to_string()),
        request_hash: Set(request_hash.to_string()),
        status_code: Set(status_code as i32),
        response_body: Set(response_body.to_string()),
        author_id: Set(Some(author_id.to_string())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Deletes the keys stored before `cutoff`; returns how many.
pub async fn purge(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    execute(
        db,
        "DELETE FROM idempotency_keys WHERE (caller, \"key\") IN \
         (SELECT caller, \"key\" FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
        [cutoff.into(), (batch as i64).into()],
    )
    .await
}

/// Deletes the spent action links that expired before `now`: an expired link is refused anyway.
/// A link spent before expiry times were recorded is deleted once `longest` (the longest a link
/// can live) has passed since it was used.
pub async fn purge_used_action_links(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    longest: chrono::Duration,
    batch: u64,
) -> Result<u64, DbErr> {
    execute(
        db,
        "DELETE FROM used_action_tokens WHERE fingerprint IN (SELECT fingerprint \
         FROM used_action_tokens WHERE expires_at < $1 OR (expires_at IS NULL AND used_at < $2) \
         LIMIT $3)",
        [now.into(), (now - longest).into(), (batch as i64).into()],
    )
    .await
}
