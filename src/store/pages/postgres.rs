//! Pages read from PostgreSQL through the process's own connections (see the parent module's
//! notes).

use std::sync::Mutex;
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgRow};
use sea_orm::sqlx::{PgConnection, Row as _};
use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use super::{
    ARTICLE_SQL, ArticlePage, CommentsPage, PageRequest, PageWriter, closed_reason_of,
    comment_status, link_policy_of, rows_statement, start,
};
use crate::entity::article;
use crate::views::dto::Fields;

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
    options: PgConnectOptions,
    /// One per connection: at most this many reads at once, the others wait in turn.
    permits: tokio::sync::Semaphore,
    idle: Mutex<Vec<PgConnection>>,
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

    /// Reads a page's comments on one of the reader's connections.
    pub async fn comments_page(&self, page: PageRequest<'_>) -> Result<CommentsPage, DbErr> {
        self.read(page, false).await.map(|(_, comments)| comments)
    }

    /// Reads an article's row, then a page of its comments, on one of the reader's connections;
    /// `None` when there is no such article.
    pub async fn article_page(&self, page: PageRequest<'_>) -> Result<Option<ArticlePage>, DbErr> {
        Ok(match self.read(page, true).await? {
            (Some(article), comments) => Some(ArticlePage::of(article, comments)),
            (None, _) => None,
        })
    }

    /// The read on a kept connection (or a new one). Waiting for a turn and for new
    /// connections takes at most `timeout` in all, as the pool's acquire does.
    async fn read(
        &self,
        page: PageRequest<'_>,
        with_article: bool,
    ) -> Result<(Option<article::Model>, CommentsPage), DbErr> {
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
        let read = match read_page(&mut conn, page, with_article).await {
            Err(e) if retry => {
                tracing::warn!(error = %e, "a kept connection failed to read a page; reading it on a new one");
                drop(conn);
                conn = self.connect(deadline).await?;
                read_page(&mut conn, page, with_article).await
            }
            read => read,
        }?;
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        Ok(read)
    }

    async fn connect(&self, deadline: tokio::time::Instant) -> Result<PgConnection, DbErr> {
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

/// The article's row (when asked for; with none, the page is not read), then the page's rows
/// through sqlx itself: streamed, each row written as its view while it is read, its strings
/// borrowed from the driver's buffer. Through sea-orm every value was copied into an owned one
/// (every string allocated) after a type check, and the rows were collected first.
async fn read_page(
    conn: &mut PgConnection,
    page: PageRequest<'_>,
    with_article: bool,
) -> Result<(Option<article::Model>, CommentsPage), DbErr> {
    use futures_util::TryStreamExt as _;
    let article = if with_article {
        let row = sea_orm::sqlx::query(ARTICLE_SQL.as_str())
            .bind(page.article_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(postgres_err)?;
        match row {
            Some(row) => Some(decode_article(&row)?),
            None => return Ok((None, PageWriter::new(page).finish())),
        }
    } else {
        None
    };
    let mut rows = sea_orm::sqlx::query(rows_statement(DbBackend::Postgres, &page))
        .bind(page.article_id)
        .bind(page.moderator)
        .bind(start(&page))
        .bind(page.limit as i64 + 1)
        .fetch(conn);
    let mut writer = PageWriter::new(page);
    while let Some(row) = rows.try_next().await.map_err(postgres_err)? {
        writer.push(decode_comment(&row, page.article_id)?)?;
    }
    Ok((article, writer.finish()))
}

/// A listed comment's row: the statement's columns are `LISTED`, of the schema's types (checked
/// by the tests that compare each page with the stored comments).
fn decode_comment<'r>(row: &'r PgRow, article_id: &'r str) -> Result<Fields<'r>, DbErr> {
    let status: &str = row.try_get_unchecked(5).map_err(decode)?;
    Ok(Fields {
        id: row.try_get_unchecked(0).map_err(decode)?,
        article_id,
        parent_id: row.try_get_unchecked(1).map_err(decode)?,
        author_id: row.try_get_unchecked(2).map_err(decode)?,
        author_name: row.try_get_unchecked(3).map_err(decode)?,
        author_badges: row.try_get_unchecked(13).map_err(decode)?,
        body: row.try_get_unchecked(4).map_err(decode)?,
        status: comment_status(status)?,
        reply_count: row.try_get_unchecked(6).map_err(decode)?,
        flag_count: row.try_get_unchecked(7).map_err(decode)?,
        created_at: row.try_get_unchecked(8).map_err(decode)?,
        edited_at: row.try_get_unchecked(9).map_err(decode)?,
        detections: row.try_get_unchecked(10).map_err(decode)?,
        reaction_count: row.try_get_unchecked(11).map_err(decode)?,
        featured: row.try_get_unchecked(12).map_err(decode)?,
    })
}

/// The article's row, by its columns' names.
fn decode_article(row: &PgRow) -> Result<article::Model, DbErr> {
    let closed_reason: Option<&str> = row.try_get("closed_reason").map_err(decode)?;
    Ok(article::Model {
        id: row.try_get("id").map_err(decode)?,
        title: row.try_get("title").map_err(decode)?,
        url: row.try_get("url").map_err(decode)?,
        topic: row.try_get("topic").map_err(decode)?,
        published_at: row.try_get("published_at").map_err(decode)?,
        closes_at: row.try_get("closes_at").map_err(decode)?,
        closed_at: row.try_get("closed_at").map_err(decode)?,
        closed_reason: closed_reason.map(closed_reason_of).transpose()?,
        created_at: row.try_get("created_at").map_err(decode)?,
        updated_at: row.try_get("updated_at").map_err(decode)?,
        comment_count: row.try_get("comment_count").map_err(decode)?,
        premod: row.try_get("premod").map_err(decode)?,
        link_policy: link_policy_of(row.try_get("link_policy").map_err(decode)?)?,
        settings_message: row.try_get("settings_message").map_err(decode)?,
    })
}

fn decode(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Type(format!("reading a page of comments: {e}"))
}

/// A driver error as sea-orm reports a failed query.
fn postgres_err(e: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}
