//! Queries and transactions, one file per aggregate. Functions take `&impl ConnectionTrait`, so
//! the same code runs inside or outside a transaction.

pub mod articles;
pub mod audit;
pub mod authors;
pub mod comment_history;
pub mod comments;
pub mod console_sessions;
pub mod decisions;
pub mod events;
pub mod flags;
pub mod hide_existing;
pub mod idempotency;
pub mod live;
pub mod moderation;
pub mod notes;
pub mod outbox;
pub mod pages;
pub mod privacy;
pub mod reactions;
pub mod report;
pub mod rules;
pub mod secrets;
pub mod topics;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, QueryFilter, QueryOrder,
    QuerySelect,
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
    let column = format!("{}.{}", E::default().table_name(), key.as_str());
    E::find()
        .filter(crate::db::one_of(db.get_database_backend(), &column, keys)?)
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

/// One page of a table newest first by id (see [`newest_first`]), only of `status` when given.
pub(crate) async fn newest_first_of_status<E: EntityTrait>(
    db: &impl ConnectionTrait,
    status_column: E::Column,
    status: Option<impl Into<sea_orm::Value>>,
    id: E::Column,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    let mut query = E::find();
    if let Some(status) = status {
        query = query.filter(status_column.eq(status));
    }
    newest_first(db, query, id, before, limit).await
}

/// What an insert that may race a concurrent one for the same key came to.
pub(crate) enum Inserted<M> {
    /// This insert created the row.
    Created(M),
    /// A concurrent request created it first: the row it created, to be updated instead.
    Existing(M),
}

/// Sorts out `inserted`: a unique violation means a concurrent request inserted the same key
/// first, and `find_again` gives that row; should it be gone again, the violation stands.
pub(crate) async fn created_or_existing<M>(
    inserted: Result<M, DbErr>,
    find_again: impl Future<Output = Result<Option<M>, DbErr>>,
) -> Result<Inserted<M>, DbErr> {
    match inserted {
        Ok(created) => Ok(Inserted::Created(created)),
        Err(e) if crate::db::is_unique_violation(&e) => match find_again.await? {
            Some(existing) => Ok(Inserted::Existing(existing)),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}
