//! Articles and their discussion: register, read (one or many), and a moderator's close/reopen.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators, JsonBody};
use crate::api::{created_or_ok, required};
use crate::auth::{Moderator, ServiceCaller};
use crate::domain::comment::parse_line;
use crate::domain::ids::{ArticleId, TopicSlug, parse_http_url};
use crate::domain::states::{DiscussionAction, Via};
use crate::entity::article;
use crate::error::{FieldErrors, ServiceError};
use crate::service::article_views;
use crate::service::articles::{self as service, ArticleInput, DiscussionChange};
use crate::service::comments::load_article;
use crate::state::AppState;
use crate::views::dto;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_list_articles, list_articles))
        .service(
            Documented::route(__path_put_article, put_article).and(__path_get_article, get_article),
        )
        .service(Documented::route(
            __path_change_discussion,
            change_discussion,
        ));
}

pub fn parse_article_id(raw: &str) -> Result<ArticleId, ServiceError> {
    ArticleId::parse(raw).map_err(|reason| ServiceError::field("id", reason))
}

/// The article's view as a `200` JSON answer.
async fn article_ok(
    state: &AppState,
    article: &article::Model,
) -> Result<HttpResponse, ServiceError> {
    let view = article_views::article(state, article, state.clock().now()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// An article to register or update.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"title": "Einladung an Putin", "url": "https://www.krone.at/1912345", "topic": "ausland", "published_at": "2019-04-26T10:51:00+02:00"}))]
pub struct ArticleBody {
    #[schema(schema_with = crate::api::schema_rules::title, required)]
    title: Option<String>,
    /// The article's page (http or https).
    #[schema(schema_with = crate::api::schema_rules::http_url, required)]
    url: Option<String>,
    #[schema(schema_with = crate::api::schema_rules::topic_ref)]
    topic: Option<String>,
    /// RFC 3339 with any offset; the discussion closes `CLOSE_AFTER_MONTHS` calendar months later.
    #[schema(value_type = String, format = DateTime, required)]
    published_at: Option<String>,
}

/// Register or update an article
///
/// 201 when the article is new, 200 when it was updated. Changing `published_at` moves the
/// discussion's `closes_at`.
#[utoipa::path(
    put,
    path = "/articles/{id}",
    tag = "articles",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    request_body = ArticleBody,
    responses(
        (status = 200, description = "The article was updated.", body = dto::Article),
        (status = 201, description = "The article was registered.", body = dto::Article),
        JsonBody,
        (status = 422, description = "`validation_failed`: a bad id, title, url, published_at, or a topic that is not registered.", body = ErrorBody),
    ),
)]
async fn put_article(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ArticleBody>,
) -> Result<HttpResponse, ServiceError> {
    let id = parse_article_id(&path)?;
    let input = parse_article(body.into_inner())?;
    let (article, created) = service::put(&state, id, input).await?;
    let view = article_views::article(&state, &article, state.clock().now()).await?;
    Ok(created_or_ok(created, &view))
}

/// Parses an article's fields, reporting every bad one at once.
fn parse_article(body: ArticleBody) -> Result<ArticleInput, ServiceError> {
    let mut errors = FieldErrors::new();
    let title = required(&mut errors, "title", body.title)
        .and_then(|t| errors.check("title", parse_line(&t, 500)));
    let url = required(&mut errors, "url", body.url)
        .and_then(|u| errors.check("url", parse_http_url(&u)));
    let published_at = required(&mut errors, "published_at", body.published_at)
        .and_then(|p| errors.check("published_at", dto::parse_ts(&p)));
    let topic = match body.topic.as_deref().map(str::trim) {
        Some(raw) if !raw.is_empty() => errors.check("topic", TopicSlug::parse(raw)),
        _ => None,
    };
    errors.into_result()?;
    match (title, url, published_at) {
        (Some(title), Some(url), Some(published_at)) => Ok(ArticleInput {
            title,
            url,
            topic,
            published_at,
        }),
        _ => Err(ServiceError::BadRequest("incomplete article".into())),
    }
}

/// An article with its discussion
#[utoipa::path(
    get,
    path = "/articles/{id}",
    tag = "articles",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    responses(
        (status = 200, description = "The article.", body = dto::Article),
        crate::api::openapi::NoSuchArticle,
        (status = 422, description = "`validation_failed`: a malformed id.", body = ErrorBody),
    ),
)]
async fn get_article(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let id = parse_article_id(&path)?;
    let article = load_article(&state, id.as_str()).await?;
    article_ok(&state, &article).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdsQuery {
    /// Up to 100 comma-separated article ids, e.g. `1912345,1912346` (white space around an id
    /// and empty items are ignored). The pattern is `schema_rules::article_ids_pattern()`.
    #[param(value_type = String, required, min_length = 1, example = "1912345,1912346",
        pattern = "^(?:[\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*,)*[\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[A-Za-z0-9._:-]{1,128}[\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*(?:,[\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*(?:[A-Za-z0-9._:-]{1,128}[\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*)?){0,99}$")]
    ids: Option<String>,
}

/// How many ids `?ids=` takes at once.
const MAX_IDS: usize = 100;

/// Up to 100 articles at once, in the order asked for; unknown ids are left out.
///
/// What a front page needs for comment counts.
#[utoipa::path(
    get,
    path = "/articles",
    tag = "articles",
    params(IdsQuery),
    responses(
        (status = 200, description = "The known articles, in the order asked for.", body = dto::ArticleList),
        (status = 400, description = "`bad_request`: a query parameter given twice.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `ids` is missing, has a malformed id or more than 100 ids.", body = ErrorBody),
    ),
)]
async fn list_articles(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    query: web::Query<IdsQuery>,
) -> Result<HttpResponse, ServiceError> {
    let raw = query.ids.as_deref().unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ServiceError::field(
            "ids",
            "is required: a comma-separated list of article ids",
        ));
    }
    // At most 100 items are looked at (a longer list is refused before any is parsed), and
    // repeats are dropped through a set, so a long query costs no more than a hundred ids.
    let parts: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_IDS + 1)
        .collect();
    if parts.len() > MAX_IDS {
        return Err(ServiceError::field("ids", "at most 100 ids at once"));
    }
    let mut seen = std::collections::HashSet::with_capacity(parts.len());
    let mut ids: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        let id = ArticleId::parse(part)
            .map_err(|reason| ServiceError::field("ids", format!("`{part}` {reason}")))?;
        if seen.insert(part) {
            ids.push(id.into_string());
        }
    }
    let found = article_views::find_many(&state, &ids).await?;
    let body = article_views::articles_json(&state, &found, state.clock().now()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// A moderator closes or reopens a discussion.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"action": "reopen", "until": "2027-01-01T00:00:00Z"}))]
pub struct DiscussionBody {
    #[schema(value_type = DiscussionAction, required)]
    action: Option<String>,
    #[schema(schema_with = crate::api::schema_rules::reason)]
    reason: Option<String>,
    /// `reopen` only: when the discussion closes again (RFC 3339, in the future). Required when
    /// the article is past its age limit; moves `closes_at`.
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
}

/// A moderator closes a discussion early or reopens one; both are audit-logged in the same
/// transaction as the change.
#[utoipa::path(
    post,
    path = "/articles/{id}/discussion",
    tag = "articles",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    request_body = DiscussionBody,
    responses(
        (status = 200, description = "The article after the change (closing a closed or reopening an open discussion changes nothing).", body = dto::Article),
        JsonBody,
        ForModerators,
        crate::api::openapi::NoSuchArticle,
        (status = 422, description = "`validation_failed`: a bad action, reason or until (past, or missing for an article past its age limit).", body = ErrorBody),
    ),
)]
async fn change_discussion(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<DiscussionBody>,
) -> Result<HttpResponse, ServiceError> {
    let id = parse_article_id(&path)?;
    let body = body.into_inner();
    let change = parse_change(
        body.action.as_deref(),
        body.reason.as_deref(),
        body.until.as_deref(),
    )?;
    let article = service::change_discussion(&state, &moderator, Via::Api, &id, change).await?;
    article_ok(&state, &article).await
}

/// Parses a moderator's change to a discussion.
pub(crate) fn parse_change(
    action: Option<&str>,
    reason: Option<&str>,
    until: Option<&str>,
) -> Result<DiscussionChange, ServiceError> {
    let reason = match reason.map(str::trim) {
        Some(r) if !r.is_empty() => {
            Some(parse_line(r, 500).map_err(|e| ServiceError::field("reason", e))?)
        }
        _ => None,
    };
    let action = action
        .and_then(|a| a.parse::<DiscussionAction>().ok())
        .ok_or_else(|| ServiceError::field("action", "must be `close` or `reopen`"))?;
    let until = match (action, until) {
        (DiscussionAction::Reopen, Some(raw)) => {
            Some(dto::parse_ts(raw).map_err(|e| ServiceError::field("until", e))?)
        }
        _ => None,
    };
    Ok(DiscussionChange {
        action,
        reason,
        until,
    })
}
