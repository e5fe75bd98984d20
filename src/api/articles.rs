//! Articles and their discussion: register, read (one or many), and a moderator's close/reopen.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::openapi::ErrorBody;
use crate::api::{created_or_ok, dto, required, views};
use crate::auth::{Moderator, ServiceCaller};
use crate::clock;
use crate::db;
use crate::domain::comment::parse_line;
use crate::domain::ids::{ArticleId, TopicSlug, parse_http_url};
use crate::domain::lifecycle::{self, ClosedReason, DiscussionState};
use crate::error::{ApiError, FieldErrors};
use crate::startup::AppState;
use crate::store::{articles, audit, topics};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/articles", web::get().to(list_articles))
        .service(
            web::resource("/articles/{id}")
                .route(web::put().to(put_article))
                .route(web::get().to(get_article)),
        )
        .route(
            "/articles/{id}/discussion",
            web::post().to(change_discussion),
        );
}

pub fn parse_article_id(raw: &str) -> Result<ArticleId, ApiError> {
    ArticleId::parse(raw).map_err(|reason| ApiError::field("id", reason))
}

/// Loads an article or answers 404.
pub async fn load(
    state: &AppState,
    id: &ArticleId,
) -> Result<crate::entity::article::Model, ApiError> {
    articles::find(&state.db, id.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no article `{id}`")))
}

/// An article to register or update.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"title": "Einladung an Putin", "url": "https://www.krone.at/1912345", "topic": "ausland", "published_at": "2019-04-26T10:51:00+02:00"}))]
pub struct ArticleBody {
    /// 1 to 500 characters, one line.
    #[schema(value_type = String, required)]
    title: Option<String>,
    /// The article's page (http or https).
    #[schema(value_type = String, format = "uri", required)]
    url: Option<String>,
    /// The slug of a registered topic (422 otherwise); optional.
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
    path = "/api/v1/articles/{id}",
    tag = "articles",
    params(("id" = String, Path, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    request_body = ArticleBody,
    responses(
        (status = 200, description = "The article was updated.", body = dto::Article),
        (status = 201, description = "The article was registered.", body = dto::Article),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad id, title, url, published_at, or a topic that is not registered.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn put_article(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ArticleBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_article_id(&path)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let title = required(&mut errors, "title", body.title)
        .and_then(|t| errors.check("title", parse_line(&t, 500)));
    let url = required(&mut errors, "url", body.url)
        .and_then(|u| errors.check("url", parse_http_url(&u)));
    let published_at = required(&mut errors, "published_at", body.published_at)
        .and_then(|p| errors.check("published_at", dto::parse_ts(&p)));
    let topic = match body
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(raw) => match TopicSlug::parse(raw) {
            Err(reason) => {
                errors.add("topic", reason);
                None
            }
            Ok(slug) => {
                if topics::find(&state.db, slug.as_str()).await?.is_none() {
                    errors.add(
                        "topic",
                        format!("no topic `{}` is registered", slug.as_str()),
                    );
                }
                Some(slug.into_string())
            }
        },
    };
    errors.into_result()?;
    let (Some(title), Some(url), Some(published_at)) = (title, url, published_at) else {
        return Err(ApiError::BadRequest("incomplete article".into()));
    };
    let published_at = chrono::SubsecRound::trunc_subsecs(published_at, 6);
    let closes_at = lifecycle::closes_at(
        published_at,
        state.settings.lifecycle.close_after_months,
        state.settings.lifecycle.newsroom_timezone,
    );
    let now = clock::now();
    let input = articles::ArticleInput {
        id: id.into_string(),
        title,
        url,
        topic,
        published_at,
        closes_at,
    };
    let (article, created) = articles::upsert(&state.db, input, now).await?;
    state.invalidate_article(&article.id);
    state.invalidate_topics();
    let view = views::article(&state, &article, now).await?;
    Ok(created_or_ok(created, &view))
}

/// An article with its discussion
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}",
    tag = "articles",
    params(("id" = String, Path, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    responses(
        (status = 200, description = "The article.", body = dto::Article),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such article.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a malformed id.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn get_article(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_article_id(&path)?;
    let article = load(&state, &id).await?;
    let view = views::article(&state, &article, clock::now()).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdsQuery {
    /// Up to 100 comma-separated article ids, e.g. `1912345,1912346`.
    #[param(value_type = String, required, example = "1912345,1912346")]
    ids: Option<String>,
}

/// Up to 100 articles at once, in the order asked for; unknown ids are left out.
///
/// What a front page needs for comment counts.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "articles",
    params(IdsQuery),
    responses(
        (status = 200, description = "The known articles, in the order asked for.", body = dto::ArticleList),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `ids` is missing, has a malformed id or more than 100 ids.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn list_articles(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    query: web::Query<IdsQuery>,
) -> Result<HttpResponse, ApiError> {
    let raw = query.ids.as_deref().unwrap_or("").trim();
    if raw.is_empty() {
        return Err(ApiError::field(
            "ids",
            "is required: a comma-separated list of article ids",
        ));
    }
    let mut ids: Vec<String> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = ArticleId::parse(part)
            .map_err(|reason| ApiError::field("ids", format!("`{part}` {reason}")))?;
        if !ids.iter().any(|i| i == id.as_str()) {
            ids.push(id.into_string());
        }
    }
    if ids.len() > 100 {
        return Err(ApiError::field("ids", "at most 100 ids at once"));
    }
    let mut found = articles::find_many(&state.db, &ids).await?;
    found.sort_by_key(|a| ids.iter().position(|i| *i == a.id));
    let articles = views::articles_view(&state, &found, clock::now()).await?;
    Ok(HttpResponse::Ok().json(dto::ArticleList { articles }))
}

/// A moderator closes or reopens a discussion.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"action": "reopen", "until": "2027-01-01T00:00:00Z"}))]
pub struct DiscussionBody {
    #[schema(schema_with = crate::api::openapi::discussion_action, required)]
    action: Option<String>,
    /// A note for the audit log (up to 500 characters).
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
    path = "/api/v1/articles/{id}/discussion",
    tag = "articles",
    params(("id" = String, Path, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    request_body = DiscussionBody,
    responses(
        (status = 200, description = "The article after the change (closing a closed or reopening an open discussion changes nothing).", body = dto::Article),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a moderator token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such article.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad action, reason or until (past, or missing for an article past its age limit).", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn change_discussion(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<DiscussionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_article_id(&path)?;
    let body = body.into_inner();
    let now = clock::now();
    let article = load(&state, &id).await?;
    let note = match body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(r) => Some(parse_line(r, 500).map_err(|e| ApiError::field("reason", e))?),
        None => None,
    };
    let action = body.action.as_deref().unwrap_or("");
    let txn = db::begin_write(&state.db, &state.write_gate).await?;
    let mut closed_now = false;
    match action {
        "close" => {
            if views::state_of(&article, now).is_open() {
                let changed = articles::close_by_moderator(&*txn, &article.id, now).await?;
                closed_now = changed > 0;
                if changed > 0 {
                    audit::write(
                        &*txn,
                        audit::Entry {
                            moderator: &moderator.name,
                            action: "close_discussion",
                            comment_id: None,
                            article_id: Some(&article.id),
                            note: note.as_deref(),
                            via: audit::Via::Api,
                        },
                        now,
                    )
                    .await?;
                }
            }
        }
        "reopen" => {
            let age_limit = lifecycle::closes_at(
                article.published_at,
                state.settings.lifecycle.close_after_months,
                state.settings.lifecycle.newsroom_timezone,
            );
            let until = match body.until.as_deref() {
                Some(raw) => Some(dto::parse_ts(raw).map_err(|e| ApiError::field("until", e))?),
                None => None,
            };
            let closes_at = match until {
                Some(t) if t <= now => {
                    return Err(ApiError::field("until", "must be in the future"));
                }
                Some(t) => chrono::SubsecRound::trunc_subsecs(t, 6),
                None if now >= age_limit => {
                    return Err(ApiError::field(
                        "until",
                        "is required: the article is past its age limit, so reopening needs an explicit future end",
                    ));
                }
                None => age_limit,
            };
            let was = DiscussionState::at(
                now,
                article.closes_at,
                article.closed_at,
                article
                    .closed_reason
                    .as_deref()
                    .and_then(ClosedReason::parse),
            );
            if !was.is_open() || closes_at != article.closes_at {
                articles::reopen(&*txn, &article.id, closes_at, now).await?;
                let note = note
                    .clone()
                    .unwrap_or_else(|| format!("open until {}", dto::format_ts(closes_at)));
                audit::write(
                    &*txn,
                    audit::Entry {
                        moderator: &moderator.name,
                        action: "reopen_discussion",
                        comment_id: None,
                        article_id: Some(&article.id),
                        note: Some(&note),
                        via: audit::Via::Api,
                    },
                    now,
                )
                .await?;
            }
        }
        _ => return Err(ApiError::field("action", "must be `close` or `reopen`")),
    }
    txn.commit().await?;
    if closed_now {
        ::metrics::counter!(crate::metrics::DISCUSSIONS_CLOSED, "reason" => "moderator")
            .increment(1);
    }
    state.invalidate_article(&article.id);
    state.invalidate_topics();
    let article = load(&state, &id).await?;
    let view = views::article(&state, &article, now).await?;
    Ok(HttpResponse::Ok().json(view))
}
