//! Pages read from a SQLite file on the request's thread, through the process's own connections
//! (see the parent module's notes).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{DbBackend, DbErr};

use super::{
    ARTICLE_SQL, ArticlePage, CommentsPage, PageRequest, PageWriter, closed_reason_of,
    comment_status, link_policy_of, rows_statement, start,
};
use crate::entity::article;
use crate::views::dto::Fields;

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
            Ok(writer.finish())
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
    let mut article = conn.prepare_cached(&ARTICLE_SQL)?;
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
    Ok(Some(ArticlePage::of(article, writer.finish())))
}

/// The page's rows; the statement's columns are `LISTED`, in its order.
fn read_rows(
    conn: &rusqlite::Connection,
    page: PageRequest<'_>,
    writer: &mut PageWriter<'_>,
) -> Result<(), ReadError> {
    let mut rows = conn.prepare_cached(rows_statement(DbBackend::Sqlite, &page))?;
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
            author_badges: text(row, 13)?,
            body: text(row, 4)?,
            status: comment_status(text(row, 5)?)?,
            reply_count: row.get(6)?,
            flag_count: row.get(7)?,
            created_at: timestamp(row, 8)?,
            edited_at: timestamp_opt(row, 9)?,
            detections: text_opt(row, 10)?,
            reaction_count: row.get(11)?,
            featured: row.get(12)?,
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
        premod: row.get(11)?,
        link_policy: link_policy_of(text(row, 12)?)?,
        settings_message: row.get(13)?,
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
