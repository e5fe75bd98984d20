//! The JSON bodies of the API (entities never leave the store layer as they are).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::domain::comment::CommentStatus;
use crate::entity::{article, comment};

/// RFC 3339 in UTC with a `Z`.
pub fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_ts(*t))
}

pub fn ts_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ts(t, s),
        None => s.serialize_none(),
    }
}

pub fn format_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses an RFC 3339 time with any offset.
pub fn parse_ts(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 time like 2019-04-26T10:51:00+02:00".to_string())
}

#[derive(Serialize, Clone, Debug)]
pub struct ArticleSummary {
    pub id: String,
    pub title: String,
    pub url: String,
    pub topic: Option<String>,
    #[serde(serialize_with = "ts")]
    pub published_at: DateTime<Utc>,
    pub comment_count: i64,
}

impl From<&article::Model> for ArticleSummary {
    fn from(a: &article::Model) -> Self {
        ArticleSummary {
            id: a.id.clone(),
            title: a.title.clone(),
            url: a.url.clone(),
            topic: a.topic.clone(),
            published_at: a.published_at,
            comment_count: a.comment_count,
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct TopicOverview {
    /// Null for the site-wide default overview (`DEFAULT_TOPIC_OVERVIEW_URL`).
    pub slug: Option<String>,
    pub name: String,
    pub url: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Contact {
    pub text: String,
    pub email: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Notice {
    pub message: String,
    pub invitation: String,
    pub topic_overview: Option<TopicOverview>,
    pub current_articles: Vec<ArticleSummary>,
    pub contact: Contact,
}

#[derive(Serialize, Clone, Debug)]
pub struct Discussion {
    pub status: &'static str,
    #[serde(serialize_with = "ts")]
    pub closes_at: DateTime<Utc>,
    #[serde(serialize_with = "ts_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<&'static str>,
    pub notice: Option<Notice>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub url: String,
    pub topic: Option<String>,
    #[serde(serialize_with = "ts")]
    pub published_at: DateTime<Utc>,
    pub comment_count: i64,
    pub discussion: Discussion,
}

#[derive(Serialize, Clone, Debug)]
pub struct Topic {
    pub slug: String,
    pub name: String,
    pub overview_url: String,
    pub current_articles: Vec<ArticleSummary>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Comment {
    pub id: String,
    pub article_id: String,
    pub parent_id: Option<String>,
    pub author: Option<Author>,
    pub body: Option<String>,
    pub status: &'static str,
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ts_opt")]
    pub edited_at: Option<DateTime<Utc>>,
    pub reply_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag_count: Option<i64>,
}

impl Comment {
    /// What a caller may see of a comment: moderators everything (with `flag_count`); the website
    /// never the body or author of a comment that is not visible (`removed`).
    pub fn view(c: &comment::Model, moderator: bool) -> Comment {
        let status = CommentStatus::parse(&c.status).unwrap_or(CommentStatus::Hidden);
        let public = status == CommentStatus::Visible;
        let show = public || moderator;
        Comment {
            id: c.id.to_string(),
            article_id: c.article_id.clone(),
            parent_id: c.parent_id.map(|p| p.to_string()),
            author: show.then(|| Author {
                id: c.author_id.clone(),
                name: c.author_name.clone(),
            }),
            body: show.then(|| c.body.clone()),
            status: if show { status.as_str() } else { "removed" },
            created_at: c.created_at,
            edited_at: if show { c.edited_at } else { None },
            reply_count: c.reply_count,
            flag_count: moderator.then_some(c.flag_count),
        }
    }
}

#[derive(Serialize, Debug)]
pub struct CommentPage {
    pub article: Article,
    pub comments: Vec<Comment>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct ReplyPage {
    pub comments: Vec<Comment>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct ArticleList {
    pub articles: Vec<Article>,
}
