//! Pages of an article's top-level comments, served from the in-process page cache: fresh pages
//! as they are, pages near expiry refreshed in the background (bounded), misses read from the
//! database. The discussion's state is computed on every request, never cached.

use std::sync::Arc;

use actix_web::web::{self, Bytes};

use crate::api::pagination;
use crate::cache::{CachedPage, Lookup, PageBody, PageKey, Stamp};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::comments::Order;
use crate::store::pages;
use crate::views;

/// The JSON body of one page: `{"article": ..., "comments": [...], "next_cursor": ...}`. While
/// the discussion is open at this request's instant, the cached body as it is; else the closed
/// discussion's view (with its notice) in front of the same comments.
pub async fn page_body(
    state: &web::Data<AppState>,
    article_id: &str,
    order: Order,
    key: PageKey,
) -> Result<Bytes, ApiError> {
    let page = match state.pages.lookup(article_id, &key) {
        Lookup::Fresh(page) => page,
        Lookup::Refresh(page, stamp) => {
            refresh_in_background(state, article_id, order, key, stamp, &page);
            page
        }
        Lookup::Miss(stamp) => load_page(state, article_id, order, key, stamp).await?,
    };
    let now = state.clock.now();
    if views::articles::state_of(&page.article, now).is_open() {
        return Ok(page.body.open());
    }
    let article = views::articles::article(state, &page.article, now).await?;
    let article_json = serde_json::to_string(&article).map_err(ApiError::internal)?;
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
    let Ok(permit) = state.refresh_permits.clone().try_acquire_owned() else {
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

/// Reads a page of top-level comments from the database and caches it.
async fn load_page(
    state: &AppState,
    article_id: &str,
    order: Order,
    key: PageKey,
    stamp: Stamp,
) -> Result<Arc<CachedPage>, ApiError> {
    let request = pages::PageRequest {
        article_id,
        order,
        after: key.after,
        limit: key.limit,
        moderator: key.moderator,
    };
    let pages::ArticlePage {
        article,
        comments_json,
        more_after,
    } = pages::article_page(&state.lists_db, state.page_reader.as_ref(), request)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no article `{article_id}`")))?;
    let next_cursor = pagination::next_by_id(more_after.is_some(), key.order, more_after);
    let body = PageBody::new(
        &views::articles::open_view_json(&article),
        &comments_json,
        next_cursor.as_deref(),
    );
    Ok(state.pages.put(article_id, key, stamp, article, body))
}
