//! Queries and transactions, one file per aggregate. Functions take `&impl ConnectionTrait`, so
//! the same code runs inside or outside a transaction.

pub mod articles;
pub mod audit;
pub mod comments;
pub mod events;
pub mod flags;
pub mod idempotency;
pub mod moderation;
pub mod outbox;
pub mod secrets;
pub mod topics;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The rows whose key is among `keys`, in no particular order.
pub(crate) async fn find_by_keys<E: EntityTrait>(
    db: &impl ConnectionTrait,
    key: E::Column,
    keys: &[String],
) -> Result<Vec<E::Model>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    E::find()
        .filter(key.is_in(keys.iter().cloned()))
        .all(db)
        .await
}

/// One page of a list newest first by id, before the row `before` (exclusive).
pub(crate) async fn newest_first<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
    id: E::Column,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    let query = match before {
        Some(before) => query.filter(id.lt(before)),
        None => query,
    };
    query.order_by_desc(id).limit(limit).all(db).await
}
