//! SQL helpers of the generator: bulk-insert transactions, timestamps as each database writes
//! them, and multi-row inserts in statements of [`BATCH`] rows.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};

pub const BATCH: usize = 1000;

/// A transaction for bulk inserts. On PostgreSQL the counting triggers are switched off for it
/// (one article's count updated half a million times in one transaction is quadratic there) and
/// the generator writes the counts itself; this needs a superuser. On SQLite the triggers count.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await
            .map_err(|e| {
                DbErr::Custom(format!("the generator needs a PostgreSQL superuser: {e}"))
            })?;
    }
    Ok(txn)
}

pub fn ts(backend: DbBackend, t: DateTime<Utc>) -> String {
    // The textual form sqlx writes for SQLite, so generated rows compare like written ones.
    match backend {
        DbBackend::Sqlite => format!("'{}'", t.to_rfc3339_opts(SecondsFormat::AutoSi, false)),
        _ => format!(
            "'{}'::timestamptz",
            t.to_rfc3339_opts(SecondsFormat::Micros, true)
        ),
    }
}

pub struct Inserter<'a, C: ConnectionTrait> {
    db: &'a C,
    head: &'static str,
    rows: Vec<String>,
}

impl<'a, C: ConnectionTrait> Inserter<'a, C> {
    pub fn new(db: &'a C, head: &'static str) -> Self {
        Inserter {
            db,
            head,
            rows: Vec::with_capacity(BATCH),
        }
    }

    pub async fn push(&mut self, row: String) -> Result<(), DbErr> {
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    pub async fn flush(&mut self) -> Result<(), DbErr> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("{} VALUES {}", self.head, self.rows.join(","));
        self.rows.clear();
        self.db
            .execute_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await?;
        Ok(())
    }
}
