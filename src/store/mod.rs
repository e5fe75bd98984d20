//! Queries and transactions, one file per aggregate. Functions take `&impl ConnectionTrait`, so
//! the same code runs inside or outside a transaction.

pub mod articles;
pub mod audit;
pub mod comments;
pub mod flags;
pub mod idempotency;
pub mod moderation;
pub mod outbox;
pub mod secrets;
pub mod topics;
