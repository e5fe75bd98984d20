//! Pages of an article's top-level comments, served from the in-process page cache: fresh pages
//! as they are, pages near expiry refreshed in the background (bounded), misses read from the
//! database. The discussion's state is computed on every request, never cached.

use std::sync::Arc;

use actix_web::web::{self, Bytes};

use crate::api::pagination;
use crate::cache::{ArticleRow, CachedPage, Lookup, PageBody, PageKey, Stamp};
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::comments::Order;
use crate::store::pages;
use crate::{service, views};

/// The JSON body of one page: `{"article": ..., "comments": [...], "next_cursor": ...}`. While
/// the discussion is open at this request's instant, the cached body as it is; else the closed
/// discussion's view (with its notice) in front of the same comments.
pub async fn page_body(
    state: &web::Data<AppState>,
    article_id: &str,
    order: Order,
    key: PageKey,
) -> Result<Bytes, ServiceError> {
    let now = state.clock().now();
    let page = match state.caches().pages.lookup(article_id, &key, now) {
        Lookup::Fresh(page) => page,
        Lookup::Refresh(page, stamp) => {
            refresh_in_background(state, article_id, order, key, stamp, &page);
            page
        }
        Lookup::Miss(stamp) => load_page(state, article_id, order, key, stamp).await?,
    };
    if views::articles::state_of(&page.article, now).is_open() {
        return Ok(page.body.open());
    }
    let article = service::article_views::article(state, &page.article, now).await?;
    let article_json = serde_json::to_string(&article).map_err(ServiceError::internal)?;
    Ok(page.body.with_article(&article_json))
}

/// Background refreshes are bounded, so they never queue up in front of the readers that must
/// wait for the database; a page left unrefreshed simply expires.
fn refresh_in_background(
    state: &web::Data<AppState>,
    article_id: &str,
    order: Order,
    key: PageKey,
    stamp: Stamp,
    page: &CachedPage,
) {
    let Ok(permit) = state.caches().refresh_permits.clone().try_acquire_owned() else {
        page.refresh_declined();
        return;
    };
    let state = state.clone();
    let article_id = article_id.to_string();
    tokio::spawn(async move {
        if let Err(e) = load_page(&state, &article_id, order, key, stamp).await {
            tracing::warn!(article = %article_id, error = %e, "refreshing a cached page failed");
        }
        drop(permit);
    });
}

/// How old a cached article row may be to make a page with: a page ages from its row's read, so
/// one made with an older row would expire soon after it was stored (and its cached page be
/// read again sooner). Past this age the article is read again with the page.
const ROW_FOR_PAGES: chrono::TimeDelta = chrono::TimeDelta::milliseconds(500);

/// Reads a page of top-level comments from the database and caches it. The article's row comes
/// from the cache of article rows when it is there (at most a second old, forgotten at once by a
/// change on this process, as pages are), so a page is one read of its comments; else the
/// article and the page are read together and the row is kept for the next pages.
async fn load_page(
    state: &AppState,
    article_id: &str,
    order: Order,
    key: PageKey,
    stamp: Stamp,
) -> Result<Arc<CachedPage>, ServiceError> {
    let request = pages::PageRequest {
        article_id,
        order,
        after: key.after,
        limit: key.limit,
        moderator: key.moderator,
        featured: key.featured,
    };
    let now = state.clock().now();
    let (cached, rows_stamp) = state.caches().article_rows.get_one(article_id, now);
    let (row, read_at, comments) = match cached {
        Some((Some(row), read_at)) if now - read_at < ROW_FOR_PAGES => {
            let comments = state.page_source().comments_page(request).await?;
            (row, read_at, comments)
        }
        // Not cached, cached as missing (the database says whether the article exists), or too
        // old to start a page with.
        _ => {
            let pages::ArticlePage {
                article,
                comments_json,
                more_after,
            } = state
                .page_source()
                .article_page(request)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("no article `{article_id}`")))?;
            let row = Arc::new(ArticleRow::new(article));
            state.caches().article_rows.put(
                rows_stamp,
                now,
                [(article_id.to_string(), Some(row.clone()))],
            );
            let comments = pages::CommentsPage {
                comments_json,
                more_after,
            };
            (row, now, comments)
        }
    };
    let more_after = comments.more_after;
    let next_cursor = pagination::next_by_id(more_after.is_some(), key.order, more_after);
    let body = PageBody::new(
        row.open_view(views::articles::open_view_json),
        &comments.comments_json,
        next_cursor.as_deref(),
    );
    Ok(state
        .caches()
        .pages
        .put(article_id, key, stamp, read_at, row.row.clone(), body))
}
