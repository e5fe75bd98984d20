//! Connecting to the database, migrations, and helpers for portable SQL.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard};

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};

use secrecy::ExposeSecret as _;

use crate::config::Settings;

/// The longest a request waits for a PostgreSQL connection.
pub const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens the pool: SQLite in WAL mode with a busy timeout; PostgreSQL sized from the cores.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(settings)?).await
}

/// The settings of the connections that read pages of comments. On SQLite it is the pool
/// itself. On PostgreSQL it is a second pool (`DATABASE_MAX_CONNECTIONS`, else twice the main
/// pool's default size) that opens no connection of its own (it connects lazily): the page
/// reader (`store::pages::PostgresReader`) opens its connections with its settings and size, so
/// a replica holds two sets of connections, the main pool's and the reader's. Its connections
/// plan each of their statements once (`plan_cache_mode = force_generic_plan`): PostgreSQL
/// otherwise judged the generic plan of a page dearer than a plan for the bound values, and
/// planned the page again on every execution, 0.25 ms of the server's CPU per page, about as
/// much as running it. The generic plan is the one the values would get: the thread's key is
/// given as a range, so only the thread's index gives the order (see `store::pages`). The
/// setting stays off the main pool, whose other statements were not written for it.
pub async fn connect_lists(
    settings: &Settings,
    db: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    if settings.database.is_sqlite() {
        return Ok(db.clone());
    }
    let mut options = options(settings)?;
    options.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_generic_plan")]));
    if settings.database.max_connections.is_none() {
        // Twice the main pool: a page is one short read, and with 8 connections on two cores
        // the cores sat 15 % idle while requests waited for a connection (uncached pages
        // 3,580-3,690 /s with 8, 4,305-4,418 /s with 16).
        options.max_connections(2 * default_max_connections(false));
    }
    options.connect_lazy(true);
    Database::connect(options).await
}

/// The pool size when `DATABASE_MAX_CONNECTIONS` is not set, from the cores.
fn default_max_connections(sqlite: bool) -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(2);
    if sqlite {
        // One writer at a time; a few readers in parallel.
        (cores * 2).clamp(4, 8)
    } else {
        (cores * 4).clamp(8, 32)
    }
}

fn options(settings: &Settings) -> Result<ConnectOptions, DbErr> {
    let mut options = ConnectOptions::new(settings.database.url.expose_secret());
    let max = settings
        .database
        .max_connections
        .unwrap_or_else(|| default_max_connections(settings.database.is_sqlite()));
    // How long a request waits for a connection. When PostgreSQL is gone, every request (and
    // `/readyz`) fails within this time with the error shape instead of hanging, and the pool
    // opens new connections as soon as it is back. SQLite is a local file: waiting there means
    // load, not an outage. (sea-orm applies both as sqlx's acquire timeout.)
    let acquire = if settings.database.is_sqlite() {
        Duration::from_secs(10)
    } else {
        POSTGRES_ACQUIRE_TIMEOUT
    };
    // A pooled connection is pinged before use only after a second idle: pinging on every
    // checkout (sqlx's default) is one more round trip per statement, to a connection's
    // thread on SQLite and to the server on PostgreSQL, for connections that are in use anyway.
    options.test_before_acquire_if_idle_for(Duration::from_secs(1));
    options
        .max_connections(max)
        .min_connections(1)
        .connect_timeout(acquire)
        .acquire_timeout(acquire)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
                // After a checkpoint, the write-ahead log shrinks back to this size: under steady
                // reads and writes it would otherwise keep the largest size it ever reached.
                .pragma("journal_size_limit", "67108864")
                // Checkpoints run in the background (`spawn_checkpoints`), not inside the commit
                // of whichever request crossed the threshold.
                .pragma("wal_autocheckpoint", "0")
                // 1 MiB of pages per connection, not SQLite's 2 MB: each pooled connection
                // kept its own copy of the hot articles (about 2.3 MB each under a front page's
                // `?ids=`), and the operating system caches the file for all of them anyway.
                .pragma("cache_size", "-1024")
        })
        .map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(keep_sqlite_plans(conn)))
        });
    if let Some(file) = sqlite_file(settings.database.url.expose_secret()) {
        create_private_file(&file).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create the database file {}: {e}",
                file.display()
            ))
        })?;
    }
    Ok(options)
}

/// Turns on SQLite's query planner stability guarantee for a new connection.
///
/// The bundled SQLite is built with `SQLITE_ENABLE_STAT4`. Once `ANALYZE` has written
/// `sqlite_stat4` samples, a cached statement whose bound value meets a sampled index is compiled
/// again on every execution, in case the value calls for another plan. A comment page spent 30 %
/// of its CPU time in SQLite's parser doing that. With the guarantee on, a prepared statement
/// keeps its plan whatever it is bound to; the plans that matter are pinned with `INDEXED BY`.
async fn keep_sqlite_plans(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let (rc, on) = stable_plans(conn, 1).await?;
    if rc != libsqlite3_sys::SQLITE_OK || on != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite did not take the query planner stability guarantee (code {rc})").into(),
        ));
    }
    Ok(())
}

/// Sets the query planner stability guarantee (`1` on, `0` off, `-1` leaves it) and returns
/// SQLite's result code and the setting now in force.
async fn stable_plans(
    conn: &mut SqliteConnection,
    set: std::ffi::c_int,
) -> Result<(std::ffi::c_int, std::ffi::c_int), sea_orm::sqlx::Error> {
    use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, sqlite3_db_config};
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut on: std::ffi::c_int = -1;
    // SAFETY: `db` is this connection's open handle, locked to this task while `handle` lives;
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int (the setting, or -1 to read it) and a pointer to
    // an int it writes the setting to.
    let rc = unsafe { sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_QPSG, set, &mut on) };
    Ok((rc, on))
}

/// The database file an SQLite URL names (none for an in-memory database).
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

/// Creates the SQLite file (and missing directories) readable by the service's user only, or
/// takes group and other access away from an existing one: it holds every comment and the
/// moderators' mail. SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private_file(file: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
    if let Some(dir) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(file)?;
    let mut permissions = opened.metadata()?.permissions();
    if permissions.mode() & 0o077 != 0 {
        permissions.set_mode(permissions.mode() & 0o700);
        opened.set_permissions(permissions)?;
    }
    Ok(())
}

/// On SQLite, copies the write-ahead log into the database file every second, off the request
/// path (a passive checkpoint waits for no reader or writer).
pub fn spawn_checkpoints(db: &DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if let Err(e) = db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
            {
                if db.ping().await.is_err() {
                    return; // the pool was closed: the process is stopping
                }
                tracing::warn!(error = %e, "checkpointing the SQLite write-ahead log failed");
            }
        }
    });
}

/// Runs pending migrations. On PostgreSQL, replicas starting together take turns through a lock.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"),
        ))
        .await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await
    } else {
        Migrator::up(db, None).await
    }
}

const MIGRATION_LOCK: i64 = 0x636f_6d6d_656e_7401;

/// Writers of one process take turns on SQLite, which has one writer at a time: waiting here
/// costs nothing, while waiting in SQLite's busy handler means sleeping and polling. PostgreSQL
/// needs no gate.
#[derive(Clone, Default)]
pub struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    pub fn for_backend(backend: DbBackend) -> WriteGate {
        match backend {
            DbBackend::Sqlite => WriteGate(Some(Arc::new(Mutex::new(())))),
            _ => WriteGate(None),
        }
    }

    /// How many turns are held or awaited in this process right now (0 on PostgreSQL): what a
    /// test reads to know that a write has reached the gate and waits there.
    pub fn pending(&self) -> usize {
        self.0.as_ref().map_or(0, |m| Arc::strong_count(m) - 1)
    }

    /// Waits for this process's turn to write (for a single statement outside a transaction).
    pub async fn turn(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.0 {
            Some(mutex) => Some(mutex.clone().lock_owned().await),
            None => None,
        }
    }
}

/// A transaction that writes, holding this process's turn on SQLite until it ends.
pub struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

/// Begins a transaction that writes: on SQLite it waits for this process's turn and then takes
/// the write lock up front (`BEGIN IMMEDIATE`), so writers never fail on a lock upgrade.
pub async fn begin_write(db: &DatabaseConnection, gate: &WriteGate) -> Result<WriteTxn, DbErr> {
    let turn = gate.turn().await;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// A condition that `column` (a text column, as SQL names it) is one of `values`. The values
/// are bound as one JSON array, so the statement is the same whatever their number: with
/// `IN (?, ?, ...)` each count was a statement of its own, prepared and cached on every
/// connection that met it (on SQLite a hundred-value lookup is a large program: a front page's
/// `?ids=` filled 15 MB of memory with them). Each value is still looked up in the column's
/// index: SQLite searches it for each row of `json_each`, PostgreSQL takes `= ANY(array)`.
pub fn one_of<S: serde::Serialize>(
    backend: DbBackend,
    column: &str,
    values: &[S],
) -> Result<sea_orm::sea_query::Expr, DbErr> {
    let list = serde_json::to_string(values).map_err(|e| DbErr::Custom(e.to_string()))?;
    let sql = match backend {
        DbBackend::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT json_array_elements_text(CAST($1 AS json))))")
        }
        _ => format!("{column} IN (SELECT value FROM json_each(?))"),
    };
    Ok(sea_orm::sea_query::Expr::cust_with_values(sql, [list]))
}

/// A raw statement with `$1`-style placeholders, which both SQLite and PostgreSQL accept.
pub fn stmt(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Runs a raw statement (see [`stmt`]) and returns how many rows it changed.
pub async fn execute(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64, DbErr> {
    Ok(db.execute_raw(stmt(db, sql, values)).await?.rows_affected())
}

/// Whether an error is a unique-constraint violation (a concurrent insert won the race).
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The pool's open and idle connections.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

/// Whether the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_sqlite_connection_keeps_its_plans_and_a_small_page_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", tmp.path().join("c.db").display());
        let settings = Settings::from_vars([
            ("DATABASE_URL".to_string(), url),
            ("DATABASE_MAX_CONNECTIONS".to_string(), "3".to_string()),
        ])
        .unwrap();
        let db = connect(&settings).await.unwrap();
        let pool = db.get_sqlite_connection_pool();
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(pool.acquire().await.unwrap());
        }
        for conn in &mut held {
            assert_eq!(stable_plans(conn, -1).await.unwrap(), (0, 1));
        }
        // And each keeps 1 MiB of pages (see `options`).
        for conn in &mut held {
            let size: i64 = sea_orm::sqlx::query_scalar("PRAGMA cache_size")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(size, -1024);
        }
    }

    #[test]
    fn the_sqlite_file_is_found_in_the_url() {
        assert_eq!(
            sqlite_file("sqlite://data/comments.db?mode=rwc"),
            Some(std::path::PathBuf::from("data/comments.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(
            sqlite_file("sqlite://comments.db"),
            Some("comments.db".into())
        );
    }

    #[test]
    fn the_database_file_and_its_directory_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let file = tmp.path().join("data").join("comments.db");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        // An existing, world-readable file is made private.
        let old = tmp.path().join("old.db");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_private_file(&old).unwrap();
        assert_eq!(mode(&old), 0o600);
    }
}
