//! Building the Article view: the discussion's state at `now` and, when closed, the Notice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::config::Settings;
use crate::domain::lifecycle::DiscussionState;
use crate::domain::notice;
use crate::domain::states::DiscussionStatus;
use crate::entity::{article, topic};
use crate::state::AppState;
use crate::store::articles;
use crate::views::dto;

/// How many newer open articles of the same topic a Notice names.
const NOTICE_ARTICLES: u64 = 3;

pub fn state_of(a: &article::Model, now: DateTime<Utc>) -> DiscussionState {
    DiscussionState::at(now, a.closes_at, a.closed_at, a.closed_reason)
}

pub async fn article(
    state: &AppState,
    a: &article::Model,
    now: DateTime<Utc>,
) -> Result<dto::Article, DbErr> {
    let mut views = articles_view(state, std::slice::from_ref(a), now).await?;
    Ok(views.remove(0))
}

/// The views of many articles: at most one query for the topics of the closed ones and one per
/// such topic whose newest open articles are not in the one-second cache (never one per article).
pub async fn articles_view(
    state: &AppState,
    list: &[article::Model],
    now: DateTime<Utc>,
) -> Result<Vec<dto::Article>, DbErr> {
    let db = &state.db;
    let settings: &Settings = &state.settings;
    let states: Vec<DiscussionState> = list.iter().map(|a| state_of(a, now)).collect();
    let mut closed_topics: Vec<String> = list
        .iter()
        .zip(&states)
        .filter(|(_, s)| !s.is_open())
        .filter_map(|(a, _)| a.topic.clone())
        .collect();
    closed_topics.sort();
    closed_topics.dedup();

    let topic_rows: HashMap<String, _> =
        crate::store::find_by_keys::<topic::Entity>(db, topic::Column::Slug, &closed_topics)
            .await?
            .into_iter()
            .map(|t| (t.slug.clone(), t))
            .collect();
    let mut newest_open: HashMap<String, std::sync::Arc<Vec<article::Model>>> = HashMap::new();
    for topic in &closed_topics {
        // The newest open articles of the topic; each notice keeps those newer than its article
        // and still open now (the cached list may be up to a second old).
        let open = match state.topic_articles.get(topic) {
            Some(open) => open,
            None => {
                let open = articles::open_in_topic(db, topic, now, NOTICE_ARTICLES + 2).await?;
                state.topic_articles.put(topic, open)
            }
        };
        newest_open.insert(topic.clone(), open);
    }

    Ok(list
        .iter()
        .zip(states)
        .map(|(a, state)| {
            let (status, closed_at, reason, notice) = match state {
                DiscussionState::Open => (DiscussionStatus::Open, None, None, None),
                DiscussionState::Closed { closed_at, reason } => {
                    let topic = a.topic.as_ref().and_then(|t| topic_rows.get(t));
                    let topic_overview = match topic {
                        Some(t) => Some(dto::TopicOverview {
                            slug: Some(t.slug.clone()),
                            name: t.name.clone(),
                            url: t.overview_url.clone(),
                        }),
                        None => settings
                            .lifecycle
                            .default_topic_overview_url
                            .as_ref()
                            .map(|url| dto::TopicOverview {
                                slug: None,
                                name: "Themenübersicht".to_string(),
                                url: url.clone(),
                            }),
                    };
                    let current_articles = a
                        .topic
                        .as_ref()
                        .and_then(|t| newest_open.get(t))
                        .map(|open| {
                            open.iter()
                                .filter(|o| o.published_at > a.published_at && o.id != a.id)
                                .filter(|o| state_of(o, now).is_open())
                                .take(NOTICE_ARTICLES as usize)
                                .map(dto::ArticleSummary::from)
                                .collect()
                        })
                        .unwrap_or_default();
                    let notice = dto::Notice {
                        message: notice::message(reason, settings.lifecycle.close_after_months),
                        invitation: notice::INVITATION.to_string(),
                        topic_overview,
                        current_articles,
                        contact: dto::Contact {
                            text: notice::contact_text(&settings.moderation.community_email),
                            email: settings.moderation.community_email.clone(),
                        },
                    };
                    (
                        DiscussionStatus::Closed,
                        Some(closed_at),
                        Some(reason),
                        Some(notice),
                    )
                }
            };
            dto::Article {
                summary: dto::ArticleSummary::from(a),
                discussion: dto::Discussion {
                    status,
                    closes_at: a.closes_at,
                    closed_at,
                    closed_reason: reason,
                    notice,
                },
            }
        })
        .collect())
}

/// The Notice of a closed discussion, for a `discussion_closed` error.
pub fn notice_json(view: &dto::Article) -> serde_json::Value {
    serde_json::to_value(&view.discussion.notice).unwrap_or(serde_json::Value::Null)
}
