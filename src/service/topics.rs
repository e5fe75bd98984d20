//! Topics ("Themenübersicht"): the website creates and updates them.

use crate::domain::ids::TopicSlug;
use crate::entity::{article, topic};
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::{articles, topics};

/// How many current articles a topic shows unless asked for another number.
pub const DEFAULT_CURRENT_ARTICLES: u64 = 5;

/// Creates or updates a topic; returns it with its current articles and whether it was created.
pub async fn put(
    state: &AppState,
    slug: &TopicSlug,
    name: &str,
    overview_url: &str,
) -> Result<(topic::Model, Vec<article::Model>, bool), ServiceError> {
    let now = state.clock().now();
    let (topic, created) = {
        let _turn = state.write_gate().turn().await;
        topics::upsert(state.db(), slug.as_str(), name, overview_url, now).await?
    };
    state.invalidate_topics();
    let current =
        articles::open_in_topic(state.db(), &topic.slug, now, DEFAULT_CURRENT_ARTICLES).await?;
    Ok((topic, current, created))
}
