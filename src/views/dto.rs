//! The JSON bodies of the API (entities never leave the store layer as they are).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

use crate::domain::comment::Badges;
use crate::domain::states::{
    ArticleLinkPolicy, ClosedReason, CommentStatus, DiscussionStatus, ShownStatus,
};
use crate::entity::{article, comment};
use crate::moderation::Detection;

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

/// An article in a list: no discussion state.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct ArticleSummary {
    pub id: String,
    pub title: String,
    pub url: String,
    /// The slug of the article's topic.
    #[schema(required)]
    pub topic: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    pub published_at: DateTime<Utc>,
    /// Comments the public can see.
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

/// Where readers of a closed discussion find current stories.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct TopicOverview {
    /// Null for the site-wide default overview (`DEFAULT_TOPIC_OVERVIEW_URL`).
    #[schema(required)]
    pub slug: Option<String>,
    pub name: String,
    pub url: String,
}

/// How to reach the community team (`COMMUNITY_EMAIL`).
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Contact {
    pub text: String,
    pub email: String,
}

/// What readers of a closed discussion see; also `details.notice` of a `discussion_closed` error.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Notice {
    /// Names the age limit, or says a moderator closed the discussion.
    pub message: String,
    pub invitation: String,
    /// The article's topic, or `DEFAULT_TOPIC_OVERVIEW_URL`; null without either.
    #[schema(required)]
    pub topic_overview: Option<TopicOverview>,
    /// Up to 3 newer articles of the same topic whose discussion is open, newest first.
    pub current_articles: Vec<ArticleSummary>,
    pub contact: Contact,
}

/// The state of an article's discussion, computed at the time of the request.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Discussion {
    /// `closed` from `closes_at` on or after a moderator closed it, whether or not the closure
    /// job has run.
    pub status: DiscussionStatus,
    /// `published_at` plus `CLOSE_AFTER_MONTHS` calendar months (or a moderator's `until`).
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    pub closes_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Why the discussion is closed; null while open.
    #[schema(required)]
    pub closed_reason: Option<ClosedReason>,
    /// Null while the discussion is open.
    #[schema(required)]
    pub notice: Option<Notice>,
}

/// An article with its discussion.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Article {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    pub discussion: Discussion,
    pub settings: ArticleSettings,
}

/// How moderators set up an article's discussion.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, ToSchema)]
#[schema(example = json!({"premod": false, "links": "inherit", "message": null}))]
pub struct ArticleSettings {
    /// Every new comment (and edit) is held for review.
    pub premod: bool,
    /// What a link does to a comment of this article: the content rules' link rule (`inherit`),
    /// or `allow`, `premod` (held) or `reject` for this article.
    pub links: ArticleLinkPolicy,
    /// What the discussion's readers are told, or null.
    #[schema(required, max_length = 1000)]
    pub message: Option<String>,
}

impl From<&article::Model> for ArticleSettings {
    fn from(a: &article::Model) -> Self {
        ArticleSettings {
            premod: a.premod,
            links: a.link_policy,
            message: a.settings_message.clone(),
        }
    }
}

/// A topic ("Themenübersicht") with its current articles.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Topic {
    pub slug: String,
    pub name: String,
    pub overview_url: String,
    /// The newest articles of the topic whose discussion is open, newest first.
    pub current_articles: Vec<ArticleSummary>,
}

/// The author of a comment, as the website knows them.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, ToSchema)]
pub struct Author {
    pub id: String,
    pub name: String,
    /// The labels the website gave the author with this comment (none: empty).
    #[serde(default)]
    #[schema(value_type = Vec<Badge>, required)]
    pub badges: Vec<String>,
}

/// A label the website gives a comment's author with a post.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Badge {
    Staff,
    Expert,
    Subscriber,
}

/// A comment. Service tokens see a comment that is not `visible` as `removed`, with null body
/// and author; moderator tokens see everything, with `flag_count`.
#[derive(Serialize, Clone, Debug, ToSchema)]
pub struct Comment {
    pub id: String,
    pub article_id: String,
    /// The comment this one replies to; null for a top-level comment.
    #[schema(required)]
    pub parent_id: Option<String>,
    #[schema(required)]
    pub author: Option<Author>,
    #[schema(required)]
    pub body: Option<String>,
    pub status: ShownStatus,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    pub edited_at: Option<DateTime<Utc>>,
    pub reply_count: i64,
    /// Readers' reactions to the comment (one per reader).
    pub reaction_count: i64,
    /// An editors' pick.
    pub featured: bool,
    /// Unresolved flags; only for moderator tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag_count: Option<i64>,
    /// Why the content rules held the comment; only for moderator tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detections: Option<Vec<Detection>>,
}

/// The detections stored with a comment (none when it was not held by the rules).
pub fn detections_of(c: &comment::Model) -> Vec<Detection> {
    parse_detections(c.detections.as_deref())
}

fn parse_detections(json: Option<&str>) -> Vec<Detection> {
    json.and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// What a view is made of, borrowed from a stored comment or from a row of a page.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    pub id: i64,
    pub article_id: &'a str,
    pub parent_id: Option<i64>,
    pub author_id: &'a str,
    pub author_name: &'a str,
    /// As stored ([`Badges`]).
    pub author_badges: &'a str,
    pub body: &'a str,
    pub status: CommentStatus,
    pub reply_count: i64,
    pub reaction_count: i64,
    pub featured: bool,
    pub flag_count: i64,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub detections: Option<&'a str>,
}

/// The view of a comment borrowed from what was read: the one place that decides what a caller
/// sees of a comment, serialised as [`Comment`] is (pages of comments are written with it
/// straight from the database's rows, without copying their strings).
#[derive(Serialize, Debug)]
pub struct CommentRef<'a> {
    #[serde(serialize_with = "id_string")]
    id: i64,
    article_id: &'a str,
    #[serde(serialize_with = "id_string_opt")]
    parent_id: Option<i64>,
    author: Option<AuthorRef<'a>>,
    body: Option<&'a str>,
    status: ShownStatus,
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "ts_opt")]
    edited_at: Option<DateTime<Utc>>,
    reply_count: i64,
    reaction_count: i64,
    featured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    flag_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detections: Option<Vec<Detection>>,
}

#[derive(Serialize, Debug)]
struct AuthorRef<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(serialize_with = "badges")]
    badges: &'a str,
}

fn badges<S: Serializer>(stored: &&str, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(Badges::stored(stored))
}

fn id_string<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

fn id_string_opt<S: Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.collect_str(id),
        None => s.serialize_none(),
    }
}

impl<'a> CommentRef<'a> {
    /// What a caller may see of a comment: moderators everything (with `flag_count` and
    /// `detections`); the website never the body or author of a comment that is not visible
    /// (`removed`).
    pub fn of(c: Fields<'a>, moderator: bool) -> CommentRef<'a> {
        let status = c.status;
        let show = status == CommentStatus::Visible || moderator;
        CommentRef {
            id: c.id,
            article_id: c.article_id,
            parent_id: c.parent_id,
            author: show.then_some(AuthorRef {
                id: c.author_id,
                name: c.author_name,
                badges: c.author_badges,
            }),
            body: show.then_some(c.body),
            status: if show {
                status.into()
            } else {
                ShownStatus::Removed
            },
            created_at: c.created_at,
            edited_at: if show { c.edited_at } else { None },
            reply_count: c.reply_count,
            reaction_count: c.reaction_count,
            featured: c.featured,
            flag_count: moderator.then_some(c.flag_count),
            detections: moderator.then(|| parse_detections(c.detections)),
        }
    }

    fn owned(&self) -> Comment {
        Comment {
            id: self.id.to_string(),
            article_id: self.article_id.to_string(),
            parent_id: self.parent_id.map(|p| p.to_string()),
            author: self.author.as_ref().map(|a| Author {
                id: a.id.to_string(),
                name: a.name.to_string(),
                badges: Badges::stored(a.badges).map(str::to_string).collect(),
            }),
            body: self.body.map(str::to_string),
            status: self.status,
            created_at: self.created_at,
            edited_at: self.edited_at,
            reply_count: self.reply_count,
            reaction_count: self.reaction_count,
            featured: self.featured,
            flag_count: self.flag_count,
            detections: self.detections.clone(),
        }
    }
}

impl Comment {
    /// What a caller may see of a comment with its count of reactions (see [`CommentRef::of`]).
    pub fn view(c: &comment::Model, reaction_count: i64, moderator: bool) -> Comment {
        CommentRef::of(fields_of(c, reaction_count), moderator).owned()
    }

    /// The views of comments, each with its count of reactions from `counts` (none: 0).
    pub fn views<'c>(
        rows: impl IntoIterator<Item = &'c comment::Model>,
        counts: &std::collections::HashMap<i64, i64>,
        moderator: bool,
    ) -> Vec<Comment> {
        rows.into_iter()
            .map(|c| Comment::view(c, counts.get(&c.id).copied().unwrap_or(0), moderator))
            .collect()
    }

    /// A comment as its author's request (post, edit) is answered: with its text and its real
    /// status (`pending_review` when held), but for the website never why it was held.
    pub fn own(c: &comment::Model, reaction_count: i64, moderator: bool) -> Comment {
        let mut view = Comment::view(c, reaction_count, true);
        if !moderator {
            view.flag_count = None;
            view.detections = None;
        }
        view
    }
}

/// A page of an article's top-level comments.
#[derive(Serialize, Debug, ToSchema)]
pub struct CommentPage {
    pub article: Article,
    pub comments: Vec<Comment>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// A page of a comment's replies, oldest first.
#[derive(Serialize, Debug, ToSchema)]
pub struct ReplyPage {
    pub comments: Vec<Comment>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    pub next_cursor: Option<String>,
}

/// The known articles of `?ids=`, in the order asked for.
#[derive(Serialize, Debug, ToSchema)]
pub struct ArticleList {
    pub articles: Vec<Article>,
}

/// The view-making fields of a stored comment, with its count of reactions.
pub fn fields_of(c: &comment::Model, reaction_count: i64) -> Fields<'_> {
    Fields {
        id: c.id,
        article_id: &c.article_id,
        parent_id: c.parent_id,
        author_id: &c.author_id,
        author_name: &c.author_name,
        author_badges: &c.author_badges,
        body: &c.body,
        status: c.status,
        reply_count: c.reply_count,
        reaction_count,
        featured: c.featured,
        flag_count: c.flag_count,
        created_at: c.created_at,
        edited_at: c.edited_at,
        detections: c.detections.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The borrowed view and the owned one are the same JSON, for every status, for both kinds
    /// of caller, with and without a parent, an edit and detections.
    #[test]
    fn borrowed_and_owned_views_serialise_alike() {
        let created = DateTime::parse_from_rfc3339("2026-12-01T06:05:45.1+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let edited = DateTime::parse_from_rfc3339("2026-12-01T07:00:00+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let detections = r#"[{"rule":"suspect_word","match":"idiot"},{"rule":"links"}]"#;
        let mut checked = 0;
        for &status in CommentStatus::ALL {
            for moderator in [false, true] {
                for (parent_id, edited_at, detections) in [
                    (None, None, None),
                    (Some(7), Some(edited), Some(detections)),
                ] {
                    let fields = Fields {
                        id: 42,
                        article_id: "a-1",
                        parent_id,
                        author_id: "u-\"1\"",
                        author_name: "Ä \\ </script>",
                        author_badges: if parent_id.is_none() {
                            ""
                        } else {
                            "staff,expert"
                        },
                        body: "line\nnext \u{1F600}",
                        status,
                        reply_count: 3,
                        reaction_count: 5,
                        featured: parent_id.is_none(),
                        flag_count: 2,
                        created_at: created,
                        edited_at,
                        detections,
                    };
                    let borrowed =
                        serde_json::to_string(&CommentRef::of(fields, moderator)).unwrap();
                    let owned =
                        serde_json::to_string(&CommentRef::of(fields, moderator).owned()).unwrap();
                    assert_eq!(borrowed, owned);
                    let value: serde_json::Value = serde_json::from_str(&borrowed).unwrap();
                    assert_eq!(value["id"], "42");
                    assert_eq!(value["created_at"], "2026-12-01T06:05:45.100Z");
                    let shown = status == CommentStatus::Visible || moderator;
                    assert_eq!(value["body"].is_null(), !shown);
                    assert_eq!(value.get("flag_count").is_some(), moderator);
                    if shown {
                        let labels = value["author"]["badges"].as_array().unwrap().len();
                        assert_eq!(labels, if parent_id.is_none() { 0 } else { 2 });
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, CommentStatus::ALL.len() * 4);
    }
}
