//! Secrets the service generates once and keeps in its database, so that every replica and every
//! restart uses the same one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::db::stmt;

/// The name of the action-link secret (used when `ACTION_LINK_SECRET` is not set).
pub const ACTION_LINK_SECRET: &str = "action_link_secret";

/// The secret called `name`: the one in the database, or else `generated`, stored. Replicas
/// starting together agree: the first insert wins, the others read what it wrote.
pub async fn get_or_insert(
    db: &impl ConnectionTrait,
    name: &str,
    generated: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO service_secrets (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
        [
            name.into(),
            URL_SAFE_NO_PAD.encode(generated).into(),
            now.into(),
        ],
    ))
    .await?;
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT value FROM service_secrets WHERE name = $1",
            [name.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("the secret `{name}`")))?;
    let value: String = row.try_get("", "value")?;
    URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|e| DbErr::Custom(format!("the stored secret `{name}` is not base64url: {e}")))
}
