//! Pages read through a sea-orm pool: SQLite in memory, and a SQLite file whose direct read
//! failed. The article's row and the page's rows are two statements in one read transaction, the
//! rows read by their columns' names.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult, QueryResult, TransactionTrait,
    Value,
};

use super::{
    ARTICLE_SQL, ArticlePage, CommentsPage, PageRequest, PageWriter, comment_status,
    rows_statement, start,
};
use crate::db::stmt;
use crate::entity::article;
use crate::views::dto::Fields;

pub(super) async fn article_page(
    pool: &DatabaseConnection,
    page: PageRequest<'_>,
) -> Result<Option<ArticlePage>, DbErr> {
    let txn = pool.begin().await?;
    let found =
        article::Model::find_by_statement(stmt(&txn, &ARTICLE_SQL, [page.article_id.into()]))
            .one(&txn)
            .await?;
    let Some(article) = found else {
        return Ok(None);
    };
    let comments = comments_page(&txn, page).await?;
    txn.commit().await?;
    Ok(Some(ArticlePage::of(article, comments)))
}

pub(super) async fn comments_page(
    db: &impl ConnectionTrait,
    page: PageRequest<'_>,
) -> Result<CommentsPage, DbErr> {
    let values: [Value; 4] = [
        page.article_id.into(),
        page.moderator.into(),
        start(&page).into(),
        (page.limit as i64 + 1).into(),
    ];
    let sql = rows_statement(db.get_database_backend(), &page);
    let rows = db.query_all_raw(stmt(db, sql, values)).await?;
    let mut writer = PageWriter::new(page);
    for row in &rows {
        let owned = Owned::of(row)?;
        writer.push(owned.fields(page.article_id)?)?;
    }
    Ok(writer.finish())
}

/// A listed comment's strings, owned (sea-orm copies every value out of the row).
struct Owned<'r> {
    row: &'r QueryResult,
    author_id: String,
    author_name: String,
    author_badges: String,
    body: String,
    status: String,
    detections: Option<String>,
}

impl<'r> Owned<'r> {
    fn of(row: &'r QueryResult) -> Result<Owned<'r>, DbErr> {
        Ok(Owned {
            row,
            author_id: row.try_get("", "author_id")?,
            author_name: row.try_get("", "author_name")?,
            author_badges: row.try_get("", "author_badges")?,
            body: row.try_get("", "body")?,
            status: row.try_get("", "status")?,
            detections: row.try_get("", "detections")?,
        })
    }

    fn fields<'a>(&'a self, article_id: &'a str) -> Result<Fields<'a>, DbErr> {
        let row = self.row;
        Ok(Fields {
            id: row.try_get("", "id")?,
            article_id,
            parent_id: row.try_get("", "parent_id")?,
            author_id: &self.author_id,
            author_name: &self.author_name,
            author_badges: &self.author_badges,
            body: &self.body,
            status: comment_status(&self.status)?,
            reply_count: row.try_get("", "reply_count")?,
            flag_count: row.try_get("", "flag_count")?,
            created_at: row.try_get("", "created_at")?,
            edited_at: row.try_get("", "edited_at")?,
            detections: self.detections.as_deref(),
            reaction_count: row.try_get("", "reaction_count")?,
            featured: row.try_get("", "featured")?,
        })
    }
}
