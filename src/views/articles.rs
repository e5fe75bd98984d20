//! Building the Article view: the discussion's state at `now` and, when closed, the Notice.

//! These are pure functions of what was read: the reads are `service::article_views`.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::lifecycle::DiscussionState;
use crate::domain::notice;
use crate::domain::states::{ClosedReason, DiscussionStatus};
use crate::entity::{article, topic};
use crate::views::dto;

/// How many newer open articles of the same topic a Notice names.
pub const NOTICE_ARTICLES: u64 = 3;

pub fn state_of(a: &article::Model, now: DateTime<Utc>) -> DiscussionState {
    DiscussionState::at(now, a.closes_at, a.closed_at, a.closed_reason)
}

/// The view of article `a` as JSON while its discussion is open (the caller checks that it is,
/// at the request's instant, with [`state_of`]).
pub fn open_view_json(a: &article::Model) -> String {
    serde_json::to_string(&view_of(a, DiscussionState::Open, None))
        .expect("an article view serialises")
}

/// The view of article `a` whose discussion is in `state` (with its notice when closed).
pub fn view_of(
    a: &article::Model,
    state: DiscussionState,
    notice: Option<dto::Notice>,
) -> dto::Article {
    let (status, closed_at, closed_reason) = match state {
        DiscussionState::Open => (DiscussionStatus::Open, None, None),
        DiscussionState::Closed { closed_at, reason } => {
            (DiscussionStatus::Closed, Some(closed_at), Some(reason))
        }
    };
    dto::Article {
        summary: dto::ArticleSummary::from(a),
        discussion: dto::Discussion {
            status,
            closes_at: a.closes_at,
            closed_at,
            closed_reason,
            notice,
        },
        settings: dto::ArticleSettings::from(a),
    }
}

/// The Notice of article `a`, whose discussion closed for `reason`: its topic's overview (or the
/// default one), up to three newer articles of its topic still open at `now` (from `newest_open`,
/// the topic's newest open articles), and the community team's address.
pub fn notice_of(
    a: &article::Model,
    reason: ClosedReason,
    topic: Option<&topic::Model>,
    newest_open: Option<&[article::Model]>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> dto::Notice {
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
    let current_articles = newest_open
        .map(|open| {
            open.iter()
                .filter(|o| o.published_at > a.published_at && o.id != a.id)
                .filter(|o| state_of(o, now).is_open())
                .take(NOTICE_ARTICLES as usize)
                .map(dto::ArticleSummary::from)
                .collect()
        })
        .unwrap_or_default();
    dto::Notice {
        message: notice::message(reason, settings.lifecycle.close_after_months),
        invitation: notice::INVITATION.to_string(),
        topic_overview,
        current_articles,
        contact: dto::Contact {
            text: notice::contact_text(&settings.moderation.community_email),
            email: settings.moderation.community_email.clone(),
        },
    }
}

/// The Notice of a closed discussion, for a `discussion_closed` error.
pub fn notice_json(view: &dto::Article) -> serde_json::Value {
    serde_json::to_value(&view.discussion.notice).unwrap_or(serde_json::Value::Null)
}
