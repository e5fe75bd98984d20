//! Pages of an article's top-level comments, as the page cache keeps them: the article's row and
//! the page's comment views as JSON, written straight from the database's rows.
//!
//! A page missing from the cache is the costliest read of the website, and most of its cost was
//! around the query rather than in it: handing the statement to another thread and back, the
//! database building the page as JSON, and parsing that JSON again to serialise the views. Here
//! each row is written as its view ([`CommentRef`]) while it is read, borrowing its strings.
//!
//! - **SQLite** ([`SqliteReader`]): the page is read on the request's own thread from a small
//!   pool of the process's own read connections to the database file, two prepared statements in
//!   one read transaction. A read in WAL mode never waits for writers, and a page is an index
//!   seek of at most `limit + 1` rows, so the thread is held for less time than the hand-off to a
//!   connection's thread took.
//! - **PostgreSQL** (and SQLite without a file): one statement on the lists pool returns the
//!   article's row and then one row per comment, in the binary protocol.

use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Value};

use crate::db::stmt;
use crate::domain::states::{ClosedReason, CommentStatus};
use crate::entity::article;
use crate::store::articles::COMMENT_COUNT;
use crate::store::comments::Order;
use crate::views::dto::{CommentRef, Fields};

/// Which page of an article's top-level comments to read.
#[derive(Clone, Copy, Debug)]
pub struct PageRequest<'a> {
    pub article_id: &'a str,
    pub order: Order,
    /// The page starts after this comment (exclusive).
    pub after: Option<i64>,
    pub limit: u64,
    /// Moderators see every comment (and more of each); the website the visible ones and the
    /// removed ones that have visible replies.
    pub moderator: bool,
}

/// One page of an article's top-level comments.
#[derive(Debug)]
pub struct CommentsPage {
    /// The views of the page's comments, a JSON array.
    pub comments_json: String,
    /// The id of the page's last comment when more follow (the next page's cursor).
    pub more_after: Option<i64>,
}

/// An article with one page of its top-level comments.
#[derive(Debug)]
pub struct ArticlePage {
    pub article: article::Model,
    /// The views of the page's comments, a JSON array.
    pub comments_json: String,
    /// The id of the page's last comment when more follow (the next page's cursor).
    pub more_after: Option<i64>,
}

/// Reads a page: on SQLite through `reader` when there is one, else through `db`. `None` when
/// there is no such article.
pub async fn article_page(
    db: &impl ConnectionTrait,
    reader: Option<&SqliteReader>,
    page: PageRequest<'_>,
) -> Result<Option<ArticlePage>, DbErr> {
    if let Some(reader) = reader {
        match reader.article_page(page) {
            Ok(found) => return Ok(found),
            // Busy or broken: the pool's own connection takes the same read.
            Err(e) => tracing::warn!(error = %e, "reading a page directly from SQLite failed"),
        }
    }
    pooled_page(db, page).await
}

/// Reads a page of an article the caller already has the row of (from the cache of article
/// rows): only the comments, one statement. On SQLite through `sqlite` when there is one, on
/// PostgreSQL through `postgres` (see [`PostgresReader`]), else through the pool. An article
/// that does not exist has no comments.
pub async fn comments_page(
    db: &DatabaseConnection,
    sqlite: Option<&SqliteReader>,
    postgres: Option<&PostgresReader>,
    page: PageRequest<'_>,
) -> Result<CommentsPage, DbErr> {
    if let Some(reader) = sqlite {
        match reader.comments_page(page) {
            Ok(found) => return Ok(found),
            Err(e) => tracing::warn!(error = %e, "reading a page directly from SQLite failed"),
        }
    }
    if let Some(reader) = postgres {
        return reader.comments_page(page).await;
    }
    // SQLite without a file (tests): the statement with the article's row.
    Ok(match pooled_page(db, page).await? {
        Some(found) => CommentsPage {
            comments_json: found.comments_json,
            more_after: found.more_after,
        },
        None => PageWriter::new(page).finish_comments(),
    })
}

/// PostgreSQL connections of the process's own that read pages of comments, as many as the lists
/// pool holds and with its settings (one generic plan per statement, the same schema).
///
/// sqlx's pool tests every connection given back to it with a round trip to the server (a
/// `Sync` and its `ReadyForQuery`), in a task of its own: for a page, a second exchange with
/// the server as costly as the first beside the query. These connections go back to a list of
/// idle ones without that: a read that fails or is given up (the request went away) drops its
/// connection, so what is kept idle finished its last read. A kept connection that fails (the
/// server restarted, say) is replaced and the read is made once more on a new one.
pub struct PostgresReader {
    options: sea_orm::sqlx::postgres::PgConnectOptions,
    /// One per connection: at most this many reads at once, the others wait in turn.
    permits: tokio::sync::Semaphore,
    idle: Mutex<Vec<sea_orm::sqlx::PgConnection>>,
    /// How long a read waits for its turn, and for a new connection.
    timeout: Duration,
}

impl PostgresReader {
    /// A reader with the settings and the size of the lists pool `lists`.
    pub fn like(lists: &DatabaseConnection, timeout: Duration) -> PostgresReader {
        let pool = lists.get_postgres_connection_pool();
        PostgresReader {
            options: (*pool.connect_options()).clone(),
            permits: tokio::sync::Semaphore::new(pool.options().get_max_connections() as usize),
            idle: Mutex::new(Vec::new()),
            timeout,
        }
    }

    /// Reads a page's comments on one of the reader's connections. Waiting for a turn and for
    /// new connections takes at most `timeout` in all, as the pool's acquire does.
    pub async fn comments_page(&self, page: PageRequest<'_>) -> Result<CommentsPage, DbErr> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let _turn = tokio::time::timeout_at(deadline, self.permits.acquire())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed))?;
        let kept = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let retry = kept.is_some();
        let mut conn = match kept {
            Some(conn) => conn,
            None => self.connect(deadline).await?,
        };
        let read = match postgres_comments(&mut conn, page).await {
            Err(e) if retry => {
                tracing::warn!(error = %e, "a kept connection failed to read a page; reading it on a new one");
                drop(conn);
                conn = self.connect(deadline).await?;
                postgres_comments(&mut conn, page).await
            }
            read => read,
        }?;
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        Ok(read)
    }

    async fn connect(
        &self,
        deadline: tokio::time::Instant,
    ) -> Result<sea_orm::sqlx::PgConnection, DbErr> {
        use sea_orm::sqlx::ConnectOptions as _;
        match tokio::time::timeout_at(deadline, self.options.connect()).await {
            Ok(connected) => {
                connected.map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))
            }
            Err(_) => Err(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)),
        }
    }

    /// How many connections are kept open for the next reads.
    pub fn idle_connections(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

/// The page's rows through sqlx itself: streamed, each row written as its view while it is read,
/// its strings borrowed from the driver's buffer. Through sea-orm every value was copied into an
/// owned one (every string allocated) after a type check, and the rows were collected first.
async fn postgres_comments(
    conn: &mut sea_orm::sqlx::PgConnection,
    page: PageRequest<'_>,
) -> Result<CommentsPage, DbErr> {
    use futures_util::TryStreamExt as _;
    use sea_orm::sqlx::Row as _;
    let sql = SQL.postgres_rows[order_index(page.order)].as_str();
    let mut rows = sea_orm::sqlx::query(sql)
        .bind(page.article_id)
        .bind(page.moderator)
        .bind(start(&page))
        .bind(page.limit as i64 + 1)
        .fetch(conn);
    let mut writer = PageWriter::new(page);
    let decode = |e: sea_orm::sqlx::Error| DbErr::Type(format!("reading a page of comments: {e}"));
    while let Some(row) = rows.try_next().await.map_err(postgres_err)? {
        // The statement's columns are `LISTED`, of the schema's types (checked by the tests
        // that compare each page with the stored comments).
        let status: &str = row.try_get_unchecked(5).map_err(decode)?;
        writer.push(Fields {
            id: row.try_get_unchecked(0).map_err(decode)?,
            article_id: page.article_id,
            parent_id: row.try_get_unchecked(1).map_err(decode)?,
            author_id: row.try_get_unchecked(2).map_err(decode)?,
            author_name: row.try_get_unchecked(3).map_err(decode)?,
            body: row.try_get_unchecked(4).map_err(decode)?,
            status: comment_status(status)?,
            reply_count: row.try_get_unchecked(6).map_err(decode)?,
            flag_count: row.try_get_unchecked(7).map_err(decode)?,
            created_at: row.try_get_unchecked(8).map_err(decode)?,
            edited_at: row.try_get_unchecked(9).map_err(decode)?,
            detections: row.try_get_unchecked(10).map_err(decode)?,
        })?;
    }
    Ok(writer.finish_comments())
}

/// A driver error as sea-orm reports a failed query.
fn postgres_err(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}

/// The columns of a listed comment, in the order `read_page` and `pooled_page` read them (`c` is
/// the comment).
const LISTED: &str = "c.id, c.parent_id, c.author_id, c.author_name, c.body, c.status, \
     c.reply_count, c.flag_count, c.created_at, c.edited_at, c.detections";

/// The columns of an article, in the order `sqlite_article` and `pooled_article` read them.
static ARTICLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "articles.id, articles.title, articles.url, articles.topic, articles.published_at, \
         articles.closes_at, articles.closed_at, articles.closed_reason, articles.created_at, \
         articles.updated_at, {COMMENT_COUNT} AS comment_count"
    )
});

/// The page's rows: `$1` the article, `$2` whether every comment counts, `$3` the cursor's id
/// (or the end of the range), `$4` how many.
fn rows_sql(backend: DbBackend, order: Order) -> String {
    let (op, dir) = match order {
        Order::Newest => ("<", "DESC"),
        Order::Oldest => (">", "ASC"),
    };
    // SQLite's planner may take the replies index for `parent_id IS NULL` and walk every
    // top-level comment of every article; the partial index is the one to read.
    //
    // On PostgreSQL `article_id = $1` would let the planner walk the primary key backwards and
    // filter: fast while the article's comments are the newest, 200 ms and more once an old
    // article's first page lies behind a million newer comments of other articles (seen in the
    // bench). As a range, `article_id` is not a constant to the planner, so only the
    // `(article_id, id)` index gives the order asked for. (SQLite is told the index; there a
    // range would stop it from seeking to the cursor.)
    let (hint, article, order_by) = match backend {
        DbBackend::Postgres => (
            "",
            "c.article_id >= $1 AND c.article_id <= $1",
            format!("c.article_id {dir}, c.id {dir}"),
        ),
        _ => (
            "INDEXED BY idx_comments_top_level",
            "c.article_id = $1",
            format!("c.id {dir}"),
        ),
    };
    format!(
        "SELECT {LISTED} FROM comments c {hint} WHERE {article} AND c.parent_id IS NULL \
         AND ($2 OR c.status = 'visible' OR c.reply_count > 0) AND c.id {op} $3 \
         ORDER BY {order_by} LIMIT $4"
    )
}

/// The statements, written once per database and order: SQLite's article and rows, and the
/// one statement of the pool (PostgreSQL's, and SQLite's for a database without a file).
struct Statements {
    sqlite_article: String,
    sqlite_rows: [String; 2],
    postgres_rows: [String; 2],
    pooled: [[String; 2]; 2],
}

static SQL: LazyLock<Statements> = LazyLock::new(|| {
    let orders = [Order::Newest, Order::Oldest];
    Statements {
        sqlite_article: format!("SELECT {} FROM articles WHERE articles.id = $1", *ARTICLE),
        sqlite_rows: orders.map(|o| rows_sql(DbBackend::Sqlite, o)),
        postgres_rows: orders.map(|o| rows_sql(DbBackend::Postgres, o)),
        pooled: [DbBackend::Postgres, DbBackend::Sqlite].map(|b| orders.map(|o| pooled_sql(b, o))),
    }
});

fn order_index(order: Order) -> usize {
    match order {
        Order::Newest => 0,
        Order::Oldest => 1,
    }
}

/// The article's row, then the page's rows, in one statement: `part` 0 is the article (its
/// comment columns null), `part` 1 a comment (its article columns null). Repeating the article's
/// columns in every comment's row (a join) cost PostgreSQL a fifth of its page rate, and an outer
/// `ORDER BY` another fifth; the rows are put in order where they are read instead.
fn pooled_sql(backend: DbBackend, order: Order) -> String {
    let null = |ty: &str| match backend {
        DbBackend::Postgres => format!("CAST(NULL AS {ty})"),
        _ => "NULL".to_string(),
    };
    let comment_nulls = [
        "bigint",
        "bigint",
        "text",
        "text",
        "text",
        "text",
        "bigint",
        "bigint",
        "timestamptz",
        "timestamptz",
        "text",
    ]
    .map(null)
    .join(", ");
    let article_nulls = ["NULL"; 11].join(", ");
    let rows = rows_sql(backend, order);
    format!(
        "SELECT CAST(0 AS BIGINT) AS part, {}, {comment_nulls} FROM articles WHERE articles.id = $1 \
         UNION ALL SELECT 1, {article_nulls}, c.* FROM ({rows}) c",
        *ARTICLE
    )
}

/// Where a page is from `after` on: the cursor's id, or the end of the range.
fn start(page: &PageRequest<'_>) -> i64 {
    match page.order {
        Order::Newest => page.after.unwrap_or(i64::MAX),
        Order::Oldest => page.after.unwrap_or(i64::MIN),
    }
}

/// Writes a page's views while its rows are read (one row more than the page, which only tells
/// that more follow).
struct PageWriter<'p> {
    page: PageRequest<'p>,
    json: Vec<u8>,
    written: u64,
    last_id: Option<i64>,
    more: bool,
}

impl<'p> PageWriter<'p> {
    fn new(page: PageRequest<'p>) -> PageWriter<'p> {
        let mut json = Vec::with_capacity(page.limit.min(100) as usize * 400 + 2);
        json.push(b'[');
        PageWriter {
            page,
            json,
            written: 0,
            last_id: None,
            more: false,
        }
    }

    fn push(&mut self, row: Fields<'_>) -> Result<(), DbErr> {
        if self.written == self.page.limit {
            self.more = true;
            return Ok(());
        }
        if self.written > 0 {
            self.json.push(b',');
        }
        serde_json::to_writer(&mut self.json, &CommentRef::of(row, self.page.moderator))
            .map_err(|e| DbErr::Custom(format!("writing a page of comments: {e}")))?;
        self.written += 1;
        self.last_id = Some(row.id);
        Ok(())
    }

    fn finish_comments(mut self) -> CommentsPage {
        self.json.push(b']');
        CommentsPage {
            // serde_json writes UTF-8 only.
            comments_json: String::from_utf8(self.json).expect("serde_json writes UTF-8"),
            more_after: if self.more { self.last_id } else { None },
        }
    }

    fn finish(self, article: article::Model) -> ArticlePage {
        let CommentsPage {
            comments_json,
            more_after,
        } = self.finish_comments();
        ArticlePage {
            article,
            comments_json,
            more_after,
        }
    }
}

/// The page through the pool: one statement (see [`pooled_sql`]).
async fn pooled_page(
    db: &impl ConnectionTrait,
    page: PageRequest<'_>,
) -> Result<Option<ArticlePage>, DbErr> {
    let backend = db.get_database_backend();
    let sql = &SQL.pooled[usize::from(backend != DbBackend::Postgres)][order_index(page.order)];
    let values: [Value; 4] = [
        page.article_id.into(),
        page.moderator.into(),
        start(&page).into(),
        (page.limit as i64 + 1).into(),
    ];
    let rows = db.query_all_raw(stmt(db, sql, values)).await?;
    // The part and, for a comment, its id: the article's row first, then the page's order.
    let mut keyed = Vec::with_capacity(rows.len());
    for row in &rows {
        let part: i64 = row.try_get_by_index(0)?;
        let id: Option<i64> = row.try_get_by_index(A)?;
        keyed.push((part, id.unwrap_or(0), row));
    }
    match page.order {
        Order::Newest => keyed.sort_by_key(|&(part, id, _)| (part, std::cmp::Reverse(id))),
        Order::Oldest => keyed.sort_by_key(|&(part, id, _)| (part, id)),
    }
    let mut keyed = keyed.into_iter();
    let Some((0, _, first)) = keyed.next() else {
        return Ok(None); // no such article
    };
    let article = pooled_article(first)?;
    let mut writer = PageWriter::new(page);
    for (_, id, row) in keyed {
        let author_id: String = row.try_get_by_index(A + 2)?;
        let author_name: String = row.try_get_by_index(A + 3)?;
        let body: String = row.try_get_by_index(A + 4)?;
        let status: String = row.try_get_by_index(A + 5)?;
        let detections: Option<String> = row.try_get_by_index(A + 10)?;
        writer.push(Fields {
            id,
            article_id: page.article_id,
            parent_id: row.try_get_by_index(A + 1)?,
            author_id: &author_id,
            author_name: &author_name,
            body: &body,
            status: comment_status(&status)?,
            reply_count: row.try_get_by_index(A + 6)?,
            flag_count: row.try_get_by_index(A + 7)?,
            created_at: row.try_get_by_index(A + 8)?,
            edited_at: row.try_get_by_index(A + 9)?,
            detections: detections.as_deref(),
        })?;
    }
    Ok(Some(writer.finish(article)))
}

/// Where a pooled row's comment columns start: after `part` and the article's 11.
const A: usize = 12;

fn pooled_article(row: &QueryResult) -> Result<article::Model, DbErr> {
    let closed_reason: Option<String> = row.try_get_by_index(8)?;
    Ok(article::Model {
        id: row.try_get_by_index(1)?,
        title: row.try_get_by_index(2)?,
        url: row.try_get_by_index(3)?,
        topic: row.try_get_by_index(4)?,
        published_at: row.try_get_by_index(5)?,
        closes_at: row.try_get_by_index(6)?,
        closed_at: row.try_get_by_index(7)?,
        closed_reason: closed_reason.as_deref().map(closed_reason_of).transpose()?,
        created_at: row.try_get_by_index(9)?,
        updated_at: row.try_get_by_index(10)?,
        comment_count: row.try_get_by_index(11)?,
    })
}

fn comment_status(raw: &str) -> Result<CommentStatus, DbErr> {
    raw.parse().map_err(|e| DbErr::Type(format!("{e}")))
}

fn closed_reason_of(raw: &str) -> Result<ClosedReason, DbErr> {
    raw.parse().map_err(|e| DbErr::Type(format!("{e}")))
}

/// The process's own read connections to a SQLite database file (see the module's notes).
pub struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Idle read connections kept open; more are opened when needed and closed after use.
const IDLE_READERS: usize = 8;

/// How long a read waits for a lock before the pool's connection takes it over. Readers of a
/// database in WAL mode wait only in rare moments (another connection recovering the log), and
/// the request's thread must not wait long.
const READ_BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// A direct read that failed: SQLite's error or a value the row could not give.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Value(#[from] DbErr),
}

impl SqliteReader {
    /// A reader of the database file of `url`; `None` when it names no file (in memory).
    pub fn for_url(url: &str) -> Option<SqliteReader> {
        Some(SqliteReader {
            path: crate::db::sqlite_file(url)?,
            idle: Mutex::new(Vec::new()),
        })
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(READ_BUSY_TIMEOUT)?;
        // The same settings as the pool's connections (see `db::options`), and reads only.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.pragma_update(None, "cache_size", -1024)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and keeps the connection for the next
    /// read unless the read failed.
    fn with_connection<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T, ReadError>,
    ) -> Result<T, ReadError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn)?;
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_READERS
        {
            idle.push(conn);
        }
        Ok(result)
    }

    /// Reads a page on this thread; `None` when there is no such article.
    pub fn article_page(&self, page: PageRequest<'_>) -> Result<Option<ArticlePage>, ReadError> {
        self.with_connection(|conn| {
            conn.prepare_cached("BEGIN")?.execute([])?;
            let read = read_page(conn, page);
            // A read transaction: ending it cannot lose anything.
            let end = conn.prepare_cached("COMMIT")?.execute([]);
            let read = read?;
            end?;
            Ok(read)
        })
    }

    /// Reads a page's comments on this thread (one statement: no transaction needed).
    pub fn comments_page(&self, page: PageRequest<'_>) -> Result<CommentsPage, ReadError> {
        self.with_connection(|conn| {
            let mut writer = PageWriter::new(page);
            read_rows(conn, page, &mut writer)?;
            Ok(writer.finish_comments())
        })
    }

    /// How many connections are kept open for the next reads.
    pub fn idle_connections(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

fn read_page(
    conn: &rusqlite::Connection,
    page: PageRequest<'_>,
) -> Result<Option<ArticlePage>, ReadError> {
    let mut article = conn.prepare_cached(&SQL.sqlite_article)?;
    let Some(article) = article
        .query([page.article_id])?
        .next()?
        .map(sqlite_article)
        .transpose()?
    else {
        return Ok(None);
    };
    let mut writer = PageWriter::new(page);
    read_rows(conn, page, &mut writer)?;
    Ok(Some(writer.finish(article)))
}

fn read_rows(
    conn: &rusqlite::Connection,
    page: PageRequest<'_>,
    writer: &mut PageWriter<'_>,
) -> Result<(), ReadError> {
    let mut rows = conn.prepare_cached(&SQL.sqlite_rows[order_index(page.order)])?;
    let mut rows = rows.query(rusqlite::params![
        page.article_id,
        page.moderator,
        start(&page),
        page.limit as i64 + 1
    ])?;
    while let Some(row) = rows.next()? {
        writer.push(Fields {
            id: row.get(0)?,
            article_id: page.article_id,
            parent_id: row.get(1)?,
            author_id: text(row, 2)?,
            author_name: text(row, 3)?,
            body: text(row, 4)?,
            status: comment_status(text(row, 5)?)?,
            reply_count: row.get(6)?,
            flag_count: row.get(7)?,
            created_at: timestamp(row, 8)?,
            edited_at: timestamp_opt(row, 9)?,
            detections: text_opt(row, 10)?,
        })?;
    }
    Ok(())
}

fn sqlite_article(row: &rusqlite::Row<'_>) -> Result<article::Model, ReadError> {
    Ok(article::Model {
        id: row.get(0)?,
        title: row.get(1)?,
        url: row.get(2)?,
        topic: row.get(3)?,
        published_at: timestamp(row, 4)?,
        closes_at: timestamp(row, 5)?,
        closed_at: timestamp_opt(row, 6)?,
        closed_reason: text_opt(row, 7)?.map(closed_reason_of).transpose()?,
        created_at: timestamp(row, 8)?,
        updated_at: timestamp(row, 9)?,
        comment_count: row.get(10)?,
    })
}

fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(i)?.as_str()?)
}

fn text_opt<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(i)?.as_str_or_null()?)
}

fn timestamp(row: &rusqlite::Row<'_>, i: usize) -> Result<DateTime<Utc>, ReadError> {
    let raw = text(row, i)?;
    sqlite_timestamp(raw).ok_or_else(|| DbErr::Type(format!("`{raw}` is not a timestamp")).into())
}

fn timestamp_opt(row: &rusqlite::Row<'_>, i: usize) -> Result<Option<DateTime<Utc>>, ReadError> {
    match text_opt(row, i)? {
        None => Ok(None),
        Some(raw) => sqlite_timestamp(raw)
            .map(Some)
            .ok_or_else(|| DbErr::Type(format!("`{raw}` is not a timestamp")).into()),
    }
}

/// A timestamp as the pool's driver reads SQLite's text: RFC 3339 (how the service writes
/// them), or one of SQLite's own date and time forms, taken as UTC without an offset.
fn sqlite_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    FORMATS.iter().find_map(|format| {
        DateTime::parse_from_str(raw, format)
            .map(|t| t.with_timezone(&Utc))
            .or_else(|_| NaiveDateTime::parse_from_str(raw, format).map(|t| t.and_utc()))
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_the_driver_reads_them() {
        let t = |raw| sqlite_timestamp(raw).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2026-12-01T06:05:45.100+00:00").as_deref(),
            Some("2026-12-01T06:05:45.100+00:00")
        );
        assert_eq!(
            t("2026-12-01T07:05:45+01:00").as_deref(),
            Some("2026-12-01T06:05:45+00:00")
        );
        assert_eq!(
            t("2026-12-01 06:05:45").as_deref(),
            Some("2026-12-01T06:05:45+00:00")
        );
        assert_eq!(t("yesterday"), None);
    }
}
