//! The Article views as requests read them: article rows, topic rows and each topic's newest
//! open articles through this process's one-second caches, then built by `views::articles`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::cache::{ArticleRow, Expiring, Found};
use crate::domain::lifecycle::DiscussionState;
use crate::entity::{article, topic};
use crate::state::AppState;
use crate::store::articles;
use crate::views::articles::{NOTICE_ARTICLES, notice_of, open_view_json, state_of, view_of};
use crate::views::dto;

pub async fn article(
    state: &AppState,
    a: &article::Model,
    now: DateTime<Utc>,
) -> Result<dto::Article, DbErr> {
    let mut views = articles_view(state, std::slice::from_ref(a), now).await?;
    Ok(views.remove(0))
}

/// The articles among `ids` that exist, in the order asked for: rows up to a second old from
/// this process's cache, the rest in one query.
pub async fn find_many(state: &AppState, ids: &[String]) -> Result<Vec<Arc<ArticleRow>>, DbErr> {
    let rows = read_through(
        state,
        &state.caches().article_rows,
        ids,
        |misses| async move { read_rows(state, &misses).await },
    )
    .await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.get(id).cloned().flatten())
        .collect())
}

/// Rows by key as the caches keep them: `None` for a key that names nothing.
type Rows<V> = HashMap<String, Option<Arc<V>>>;

/// The fresh values of `keys` in `cache`; the others are read with `read` (one query) and kept.
async fn read_through<V, F, Fut>(
    state: &AppState,
    cache: &Expiring<Option<Arc<V>>>,
    keys: &[String],
    read: F,
) -> Result<Rows<V>, DbErr>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Rows<V>, DbErr>>,
{
    let Found {
        mut hits,
        misses,
        stamp,
    } = cache.get_many(keys, state.clock().now());
    if !misses.is_empty() {
        let read_at = state.clock().now();
        let read = read(misses).await?;
        cache.put(
            stamp,
            read_at,
            read.iter().map(|(k, v)| (k.clone(), v.clone())),
        );
        hits.extend(read);
    }
    Ok(hits)
}

/// `keys` mapped to the rows found (`None` for the others).
fn found<V>(keys: &[String], rows: impl IntoIterator<Item = (String, V)>) -> Rows<V> {
    let mut found: Rows<V> = keys.iter().map(|k| (k.clone(), None)).collect();
    for (key, row) in rows {
        found.insert(key, Some(Arc::new(row)));
    }
    found
}

/// The article rows of `ids`, as the cache keeps them.
async fn read_rows(state: &AppState, ids: &[String]) -> Result<Rows<ArticleRow>, DbErr> {
    let rows = articles::find_many(state.db(), ids).await?;
    Ok(found(
        ids,
        rows.into_iter().map(|r| (r.id.clone(), ArticleRow::new(r))),
    ))
}

/// The body of `GET /articles?ids=`, `{"articles": [...]}`, with the views of `rows` at `now`
/// (see [`articles_view`]); an open discussion's view is its cached row's JSON.
pub async fn articles_json(
    state: &AppState,
    rows: &[Arc<ArticleRow>],
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let open: Vec<bool> = rows
        .iter()
        .map(|r| state_of(&r.row, now).is_open())
        .collect();
    let closed: Vec<&article::Model> = rows
        .iter()
        .zip(&open)
        .filter(|(_, open)| !**open)
        .map(|(r, _)| &r.row)
        .collect();
    let mut closed_views = articles_view(state, &closed, now).await?.into_iter();
    let json_error = |e: serde_json::Error| DbErr::Custom(format!("writing an article view: {e}"));
    let mut body = String::with_capacity(16 + rows.len() * 400);
    body.push_str("{\"articles\":[");
    for (i, (r, open)) in rows.iter().zip(open).enumerate() {
        if i > 0 {
            body.push(',');
        }
        if open {
            body.push_str(r.open_view(open_view_json));
        } else {
            let view = closed_views
                .next()
                .ok_or_else(|| DbErr::Custom("a closed article without its view".into()))?;
            body.push_str(&serde_json::to_string(&view).map_err(json_error)?);
        }
    }
    body.push_str("]}");
    Ok(body)
}

/// How often the article rows found past their refresh age are read again, together.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Reads the cached article rows that requests found past their refresh age, in batches, so a
/// front page's articles are fresh again before they expire and requests rarely wait for the
/// database. Ends when the process's state is gone.
pub async fn refresh_article_rows(state: std::sync::Weak<AppState>) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(state) = state.upgrade() else { return };
        let (due, stamp) = state.caches().article_rows.take_due();
        for chunk in due.chunks(500) {
            let read_at = state.clock().now();
            match read_rows(&state, chunk).await {
                Ok(read) => state.caches().article_rows.put(stamp, read_at, read),
                Err(e) => tracing::warn!(error = %e, "refreshing cached article rows failed"),
            }
        }
    }
}

/// The views of many articles: topic rows and each topic's newest open articles come from the
/// one-second caches; what is missing there takes one query for the topic rows and one per
/// topic for its newest articles (never one per article).
pub async fn articles_view<A: Borrow<article::Model>>(
    state: &AppState,
    list: &[A],
    now: DateTime<Utc>,
) -> Result<Vec<dto::Article>, DbErr> {
    let db = state.db();
    let states: Vec<DiscussionState> = list.iter().map(|a| state_of(a.borrow(), now)).collect();
    let mut closed_topics: Vec<String> = list
        .iter()
        .zip(&states)
        .filter(|(_, s)| !s.is_open())
        .filter_map(|(a, _)| a.borrow().topic.clone())
        .collect();
    closed_topics.sort();
    closed_topics.dedup();

    let topic_rows = read_through(
        state,
        &state.caches().topic_rows,
        &closed_topics,
        |slugs| async move {
            let rows = crate::store::find_by_keys::<topic::Entity>(db, topic::Column::Slug, &slugs)
                .await?;
            Ok(found(&slugs, rows.into_iter().map(|r| (r.slug.clone(), r))))
        },
    )
    .await?;
    let mut newest_open: HashMap<String, Arc<Vec<article::Model>>> = HashMap::new();
    for topic in &closed_topics {
        // The newest open articles of the topic; each notice keeps those newer than its article
        // and still open now (the cached list may be up to a second old).
        let open = match state
            .caches()
            .topic_articles
            .get(topic, state.clock().now())
        {
            Some(open) => open,
            None => {
                let stamp = state.caches().topic_articles.stamp();
                let read_at = state.clock().now();
                let open = articles::open_in_topic(db, topic, now, NOTICE_ARTICLES + 2).await?;
                state
                    .caches()
                    .topic_articles
                    .put_one(stamp, read_at, topic, Arc::new(open))
            }
        };
        newest_open.insert(topic.clone(), open);
    }

    Ok(list
        .iter()
        .map(Borrow::borrow)
        .zip(states)
        .map(|(a, discussion)| {
            let notice = match discussion {
                DiscussionState::Open => None,
                DiscussionState::Closed { reason, .. } => {
                    let topic = a.topic.as_ref();
                    Some(notice_of(
                        a,
                        reason,
                        topic
                            .and_then(|t| topic_rows.get(t))
                            .and_then(Option::as_deref),
                        topic
                            .and_then(|t| newest_open.get(t))
                            .map(|open| open.as_slice()),
                        state.settings(),
                        now,
                    ))
                }
            };
            view_of(a, discussion, notice)
        })
        .collect())
}
