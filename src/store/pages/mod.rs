//! Pages of an article's top-level comments, as the page cache keeps them: the article's row and
//! the page's comment views as JSON, written straight from the database's rows.
//!
//! A page missing from the cache is the costliest read of the website, and most of its cost was
//! around the query rather than in it: handing the statement to another thread and back, the
//! database building the page as JSON, and parsing that JSON again to serialise the views. Here
//! each row is written as its view ([`CommentRef`]) while it is read, borrowing its strings.
//!
//! One [`PageSource`] per process, chosen at start-up for its database, reads every page; each
//! kind has one decoder of its driver's rows:
//!
//! - **SQLite file** ([`sqlite::SqliteReader`]): the page is read on the request's own thread
//!   from a small pool of the process's own read connections to the database file, two prepared
//!   statements in one read transaction. A read in WAL mode never waits for writers, and a page
//!   is an index seek of at most `limit + 1` rows, so the thread is held for less time than the
//!   hand-off to a connection's thread took. A direct read that fails is made again on the pool.
//! - **PostgreSQL** ([`postgres::PostgresReader`]): the process's own connections, without the
//!   pool's round trip on every release, rows streamed in the binary protocol.
//! - **SQLite in memory** ([`pool`]): the pool's connections (no file another connection could
//!   open).

mod pool;
pub mod postgres;
pub mod sqlite;

use std::sync::LazyLock;

use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use crate::domain::states::{ArticleLinkPolicy, ClosedReason, CommentStatus};
use crate::entity::article;
use crate::store::articles::COMMENT_COUNT;
use crate::store::comments::Order;
use crate::store::reactions::REACTION_COUNT;
use crate::views::dto::{CommentRef, Fields};

pub use postgres::PostgresReader;
pub use sqlite::SqliteReader;

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
    /// Only the editors' picks (`?featured=true`).
    pub featured: bool,
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

/// Where a process reads its pages from (see the module's notes).
pub enum PageSource {
    /// A SQLite file: the process's own connections, and the pool when a direct read fails.
    Sqlite {
        reader: SqliteReader,
        pool: DatabaseConnection,
    },
    /// PostgreSQL: the process's own connections.
    Postgres(Box<PostgresReader>),
    /// SQLite in memory: the pool.
    Pool(DatabaseConnection),
}

impl PageSource {
    /// The source for the database of `lists` (the pool of `db::connect_lists`), whose URL is
    /// `url`. On PostgreSQL the reader opens connections of its own with the pool's settings and
    /// size, and the pool itself opens none.
    pub fn for_database(
        url: &str,
        lists: &DatabaseConnection,
        timeout: std::time::Duration,
    ) -> PageSource {
        if sea_orm::ConnectionTrait::get_database_backend(lists) == DbBackend::Postgres {
            return PageSource::Postgres(Box::new(PostgresReader::like(lists, timeout)));
        }
        match SqliteReader::for_url(url) {
            Some(reader) => PageSource::Sqlite {
                reader,
                pool: lists.clone(),
            },
            None => PageSource::Pool(lists.clone()),
        }
    }

    /// Reads an article's row and a page of its comments; `None` when there is no such article.
    pub async fn article_page(&self, page: PageRequest<'_>) -> Result<Option<ArticlePage>, DbErr> {
        match self {
            PageSource::Sqlite { reader, pool } => match reader.article_page(page) {
                Ok(found) => Ok(found),
                Err(e) => {
                    // Busy or broken: the pool's own connection takes the same read.
                    tracing::warn!(error = %e, "reading a page directly from SQLite failed");
                    pool::article_page(pool, page).await
                }
            },
            PageSource::Postgres(reader) => reader.article_page(page).await,
            PageSource::Pool(pool) => pool::article_page(pool, page).await,
        }
    }

    /// Reads a page of an article the caller already has the row of (from the cache of article
    /// rows): only the comments, one statement. An article that does not exist has no comments.
    pub async fn comments_page(&self, page: PageRequest<'_>) -> Result<CommentsPage, DbErr> {
        match self {
            PageSource::Sqlite { reader, pool } => match reader.comments_page(page) {
                Ok(found) => Ok(found),
                Err(e) => {
                    tracing::warn!(error = %e, "reading a page directly from SQLite failed");
                    pool::comments_page(pool, page).await
                }
            },
            PageSource::Postgres(reader) => reader.comments_page(page).await,
            PageSource::Pool(pool) => pool::comments_page(pool, page).await,
        }
    }

    /// How many of the source's own connections are kept open for the next reads.
    pub fn idle_connections(&self) -> usize {
        match self {
            PageSource::Sqlite { reader, .. } => reader.idle_connections(),
            PageSource::Postgres(reader) => reader.idle_connections(),
            PageSource::Pool(_) => 0,
        }
    }
}

/// The columns of a listed comment, in the order every decoder reads them (`c` is the comment).
static LISTED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "c.id, c.parent_id, c.author_id, c.author_name, c.body, c.status, c.reply_count, \
         c.flag_count, c.created_at, c.edited_at, c.detections, {REACTION_COUNT}, c.featured, \
         c.author_badges"
    )
});

/// An article's row with its comment count, `$1` its id.
static ARTICLE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT articles.id, articles.title, articles.url, articles.topic, articles.published_at, \
         articles.closes_at, articles.closed_at, articles.closed_reason, articles.created_at, \
         articles.updated_at, {COMMENT_COUNT} AS comment_count, articles.premod, \
         articles.link_policy, articles.settings_message FROM articles WHERE articles.id = $1"
    )
});

/// The page's rows: `$1` the article, `$2` whether every comment counts, `$3` the cursor's id
/// (or the end of the range), `$4` how many; only the editors' picks when `featured` (read
/// through their own partial index).
fn rows_sql(backend: DbBackend, order: Order, featured: bool) -> String {
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
            "".to_string(),
            "c.article_id >= $1 AND c.article_id <= $1",
            format!("c.article_id {dir}, c.id {dir}"),
        ),
        _ => (
            format!(
                "INDEXED BY {}",
                if featured {
                    "idx_comments_featured"
                } else {
                    "idx_comments_top_level"
                }
            ),
            "c.article_id = $1",
            format!("c.id {dir}"),
        ),
    };
    format!(
        "SELECT {listed} FROM comments c {hint} WHERE {article} AND c.parent_id IS NULL {picks}\
         AND ($2 OR c.status = 'visible' OR c.reply_count > 0) AND c.id {op} $3 \
         ORDER BY {order_by} LIMIT $4",
        listed = LISTED.as_str(),
        picks = if featured { "AND c.featured " } else { "" },
    )
}

/// The rows' statement of each database, list (all or the picks) and order, written once.
static ROWS_SQL: LazyLock<[[[String; 2]; 2]; 2]> = LazyLock::new(|| {
    [DbBackend::Postgres, DbBackend::Sqlite].map(|backend| {
        [false, true].map(|featured| {
            [Order::Newest, Order::Oldest].map(|order| rows_sql(backend, order, featured))
        })
    })
});

fn rows_statement(backend: DbBackend, page: &PageRequest<'_>) -> &'static str {
    let order = match page.order {
        Order::Newest => 0,
        Order::Oldest => 1,
    };
    &ROWS_SQL[usize::from(backend != DbBackend::Postgres)][usize::from(page.featured)][order]
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

    fn finish(mut self) -> CommentsPage {
        self.json.push(b']');
        CommentsPage {
            // serde_json writes UTF-8 only.
            comments_json: String::from_utf8(self.json).expect("serde_json writes UTF-8"),
            more_after: if self.more { self.last_id } else { None },
        }
    }
}

impl ArticlePage {
    fn of(article: article::Model, comments: CommentsPage) -> ArticlePage {
        ArticlePage {
            article,
            comments_json: comments.comments_json,
            more_after: comments.more_after,
        }
    }
}

fn comment_status(raw: &str) -> Result<CommentStatus, DbErr> {
    raw.parse().map_err(|e| DbErr::Type(format!("{e}")))
}

fn closed_reason_of(raw: &str) -> Result<ClosedReason, DbErr> {
    raw.parse().map_err(|e| DbErr::Type(format!("{e}")))
}

fn link_policy_of(raw: &str) -> Result<ArticleLinkPolicy, DbErr> {
    raw.parse().map_err(|e| DbErr::Type(format!("{e}")))
}
