//! Comments: post (idempotent, rate-limited), list, replies, get, edit, delete.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::api::articles::{load, parse_article_id};
use crate::api::openapi::ErrorBody;
use crate::api::{dto, pagination, parse_json, read_body, required, views};
use crate::auth::ServiceCaller;
use crate::cache::{CachedPage, Lookup, PageKey, Stamp};
use crate::clock;
use crate::db;
use crate::domain::comment::{CommentBody, CommentStatus, parse_author_id, parse_author_name};
use crate::domain::ids::CommentId;
use crate::entity::{article, comment};
use crate::error::{ApiError, FieldErrors};
use crate::startup::AppState;
use crate::store::{comments, idempotency};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/articles/{id}/comments")
            .route(web::post().to(post_comment))
            .route(web::get().to(list_comments)),
    )
    .route("/comments/{id}/replies", web::get().to(list_replies))
    .service(
        web::resource("/comments/{id}")
            .route(web::get().to(get_comment))
            .route(web::patch().to(edit_comment))
            .route(web::delete().to(delete_comment)),
    );
}

/// Loads a comment or answers 404.
pub async fn load_comment(state: &AppState, raw_id: &str) -> Result<comment::Model, ApiError> {
    let not_found = || ApiError::NotFound(format!("no comment `{raw_id}`"));
    let id = CommentId::parse(raw_id).ok_or_else(not_found)?;
    comments::find(&state.db, id.0).await?.ok_or_else(not_found)
}

/// Refuses writes to a discussion that is closed at `now`, with the Notice.
async fn ensure_open(
    state: &AppState,
    article: &article::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    if views::state_of(article, now).is_open() {
        return Ok(());
    }
    let view = views::article(state, article, now).await?;
    Err(ApiError::DiscussionClosed(Box::new(views::notice_json(
        &view,
    ))))
}

/// The author of a new comment, as the website knows them.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AuthorBody {
    /// 1 to 128 characters.
    #[schema(value_type = String, required)]
    id: Option<String>,
    /// 1 to 64 characters, one line.
    #[schema(value_type = String, required)]
    name: Option<String>,
}

/// A new comment or reply.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author": {"id": "u-123", "name": "Leser123"}, "body": "Ein Kommentar.", "parent_id": null}))]
pub(crate) struct NewCommentBody {
    #[schema(value_type = AuthorBody, required)]
    author: Option<AuthorBody>,
    /// Plain text, 1 to `COMMENT_MAX_CHARS` (default 2000) characters after trimming; no control
    /// characters but newline and tab.
    #[schema(value_type = String, required)]
    body: Option<String>,
    /// A visible comment of the same article to reply to; null or absent for a top-level comment.
    parent_id: Option<String>,
}

const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })?;
    Ok(Some(key.to_string()))
}

fn replay(
    stored: &crate::entity::idempotency_key::Model,
    hash: &str,
) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != hash {
        return Err(ApiError::IdempotencyConflict);
    }
    let status = StatusCode::from_u16(stored.status_code as u16).unwrap_or(StatusCode::CREATED);
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(stored.response_body.clone()))
}

/// Post a comment or reply
///
/// The same `Idempotency-Key` with the same body returns the first response and creates nothing.
/// More than `COMMENT_RATE_LIMIT` (default 5) comments by one author per minute: 429.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/comments",
    tag = "comments",
    params(
        ("id" = String, Path, description = "The article id."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, description = "1 to 255 visible ASCII characters; makes retries safe."),
    ),
    request_body = NewCommentBody,
    responses(
        (status = 201, description = "The comment (also when an idempotent request is replayed; then with `Idempotent-Replayed: true`).", body = dto::Comment,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored response of an earlier request with the same key."))),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape, or a bad `Idempotency-Key`.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 403, description = "`discussion_closed`: the discussion is closed; `details.notice` holds the Notice.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such article.", body = ErrorBody),
        (status = 409, description = "`idempotency_conflict`: the `Idempotency-Key` was used with another body.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad article id, author, body or parent_id.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many comments by this author.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn post_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let article_id = parse_article_id(&path)?;
    let raw = read_body(payload).await?;
    let key = idempotency_key(&req)?;
    let hash = idempotency::request_hash(req.path(), &raw);
    if let Some(key) = &key
        && let Some(stored) = idempotency::find(&state.db, &caller.name, key).await?
    {
        return replay(&stored, &hash);
    }

    let input: NewCommentBody = parse_json(&raw)?;
    let mut errors = FieldErrors::new();
    let author = required(&mut errors, "author", input.author);
    let (author_id, author_name) = match author {
        Some(a) => (
            required(&mut errors, "author.id", a.id)
                .and_then(|v| errors.check("author.id", parse_author_id(&v))),
            required(&mut errors, "author.name", a.name)
                .and_then(|v| errors.check("author.name", parse_author_name(&v))),
        ),
        None => (None, None),
    };
    let body = required(&mut errors, "body", input.body).and_then(|b| {
        errors.check(
            "body",
            CommentBody::parse(&b, state.settings.moderation.comment_max_chars),
        )
    });
    let parent_id = match input.parent_id.as_deref() {
        None => None,
        Some(raw) => {
            let id = CommentId::parse(raw);
            if id.is_none() {
                errors.add("parent_id", "names no comment of this article");
            }
            id
        }
    };
    errors.into_result()?;
    let (Some(author_id), Some(author_name), Some(body)) = (author_id, author_name, body) else {
        return Err(ApiError::BadRequest("incomplete comment".into()));
    };

    let now = clock::now();
    let article = load(&state, &article_id).await?;
    ensure_open(&state, &article, now).await?;
    if let Some(parent) = parent_id {
        match comments::find(&state.db, parent.0).await? {
            Some(p) if p.article_id == article.id => {
                if p.status != CommentStatus::Visible.as_str() {
                    return Err(ApiError::field(
                        "parent_id",
                        "names a comment that is no longer visible",
                    ));
                }
            }
            _ => {
                return Err(ApiError::field(
                    "parent_id",
                    "names no comment of this article",
                ));
            }
        }
    }

    let limit = state.settings.moderation.comment_rate_limit;
    let window = Duration::minutes(1);
    let recent =
        comments::recent_by_author(&state.db, &author_id, now - window, limit as u64).await?;
    if recent.len() >= limit as usize {
        let oldest = recent.last().copied().unwrap_or(now);
        let wait = (oldest + window - now).num_milliseconds().max(0);
        return Err(ApiError::RateLimited {
            retry_after_secs: ((wait + 999) / 1000).max(1) as u64,
        });
    }

    let new = comments::NewComment {
        article_id: article.id.clone(),
        parent_id: parent_id.map(|p| p.0),
        author_id,
        author_name,
        body: body.into_string(),
    };
    let response_body = match &key {
        // One statement: the database counts the comment in the same statement.
        None => {
            let turn = state.write_gate.turn().await;
            let created = comments::insert(&state.db, new, now).await?;
            drop(turn);
            serde_json::to_string(&dto::Comment::view(&created, caller.is_moderator()))
                .map_err(ApiError::internal)?
        }
        // The comment and the stored response commit together.
        Some(key) => {
            let txn = db::begin_write(&state.db, &state.write_gate).await?;
            let created = comments::insert(&*txn, new, now).await?;
            let response_body =
                serde_json::to_string(&dto::Comment::view(&created, caller.is_moderator()))
                    .map_err(ApiError::internal)?;
            if let Err(e) =
                idempotency::record(&*txn, &caller.name, key, &hash, 201, &response_body, now).await
            {
                drop(txn);
                // A concurrent request with the same key committed first: answer as it did.
                if db::is_unique_violation(&e)
                    && let Some(stored) = idempotency::find(&state.db, &caller.name, key).await?
                {
                    return replay(&stored, &hash);
                }
                return Err(e.into());
            }
            txn.commit().await?;
            response_body
        }
    };
    state.invalidate_article(&article.id);
    ::metrics::counter!(crate::metrics::COMMENTS_POSTED).increment(1);
    Ok(HttpResponse::Created()
        .content_type("application/json")
        .body(response_body))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    #[param(schema_with = crate::api::openapi::comment_order, required = false)]
    order: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// An article's top-level comments
///
/// With the article (and its discussion state). Replies are listed per comment.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/comments",
    tag = "comments",
    params(("id" = String, Path, description = "The article id."), ListQuery),
    responses(
        (status = 200, description = "A page of top-level comments.", body = dto::CommentPage),
        (status = 400, description = "`bad_request`: a cursor this list did not give out.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such article.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad article id, order or limit.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn list_comments(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let article_id = parse_article_id(&path)?;
    let (order, tag) = match query.order.as_deref() {
        None | Some("newest") => (comments::Order::Newest, "n"),
        Some("oldest") => (comments::Order::Oldest, "o"),
        Some(_) => return Err(ApiError::field("order", "must be `newest` or `oldest`")),
    };
    let limit = pagination::limit(query.limit.as_deref(), pagination::DEFAULT_LIMIT)?;
    let after = pagination::id_after(query.cursor.as_deref(), tag)?;
    let now = clock::now();
    let moderator = caller.is_moderator();
    let key = PageKey {
        order: tag,
        after,
        limit,
        moderator,
    };
    let page = match state.pages.lookup(article_id.as_str(), &key) {
        Lookup::Fresh(page) => page,
        Lookup::Refresh(page, stamp) => {
            // Background refreshes are bounded, so they never queue up in front of the readers
            // that must wait for the database; a page left unrefreshed simply expires.
            match state.refresh_permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let state = state.clone();
                    let article_id = article_id.as_str().to_string();
                    tokio::spawn(async move {
                        if let Err(e) = load_page(&state, &article_id, order, key, stamp).await {
                            tracing::warn!(article = %article_id, error = %e, "refreshing a cached page failed");
                        }
                        drop(permit);
                    });
                }
                Err(_) => page.refresh_declined(),
            }
            page
        }
        Lookup::Miss(stamp) => load_page(&state, article_id.as_str(), order, key, stamp).await?,
    };
    // The discussion's state is computed now, never taken from the cache.
    let article = views::article(&state, &page.article, now).await?;
    let article_json = serde_json::to_string(&article).map_err(ApiError::internal)?;
    let cursor_json = serde_json::to_string(&page.next_cursor).map_err(ApiError::internal)?;
    let mut body = String::with_capacity(
        article_json.len() + page.comments_json.len() + cursor_json.len() + 48,
    );
    body.push_str("{\"article\":");
    body.push_str(&article_json);
    body.push_str(",\"comments\":");
    body.push_str(&page.comments_json);
    body.push_str(",\"next_cursor\":");
    body.push_str(&cursor_json);
    body.push('}');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// Reads a page of top-level comments from the database and caches it.
async fn load_page(
    state: &AppState,
    article_id: &str,
    order: comments::Order,
    key: PageKey,
    stamp: Stamp,
) -> Result<Arc<CachedPage>, ApiError> {
    let article = crate::store::articles::find(&state.db, article_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no article `{article_id}`")))?;
    let rows = comments::list_top_level(
        &state.db,
        &article.id,
        order,
        key.after,
        key.limit + 1,
        !key.moderator,
    )
    .await?;
    let (rows, more) = pagination::split(rows, key.limit);
    let next_cursor = pagination::next_by_id(more, key.order, rows.last().map(|c| c.id));
    let views: Vec<dto::Comment> = rows
        .iter()
        .map(|c| dto::Comment::view(c, key.moderator))
        .collect();
    let comments_json = serde_json::to_string(&views).map_err(ApiError::internal)?;
    Ok(state
        .pages
        .put(article_id, key, stamp, article, comments_json, next_cursor))
}

/// A comment's replies, oldest first
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}/replies",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id."), pagination::PageQuery),
    responses(
        (status = 200, description = "A page of replies.", body = dto::ReplyPage),
        (status = 400, description = "`bad_request`: a cursor this list did not give out.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad limit.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn list_replies(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let parent = load_comment(&state, &path).await?;
    let limit = pagination::limit(query.limit.as_deref(), pagination::DEFAULT_LIMIT)?;
    let after = pagination::id_after(query.cursor.as_deref(), "r")?;
    let moderator = caller.is_moderator();
    let rows = comments::list_replies(&state.db, parent.id, after, limit + 1, !moderator).await?;
    let (rows, more) = pagination::split(rows, limit);
    let next_cursor = pagination::next_by_id(more, "r", rows.last().map(|c| c.id));
    Ok(HttpResponse::Ok().json(dto::ReplyPage {
        comments: rows
            .iter()
            .map(|c| dto::Comment::view(c, moderator))
            .collect(),
        next_cursor,
    }))
}

/// One comment
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "The comment.", body = dto::Comment),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn get_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let comment = load_comment(&state, &path).await?;
    Ok(HttpResponse::Ok().json(dto::Comment::view(&comment, caller.is_moderator())))
}

/// The author edits their comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author_id": "u-123", "body": "Ein korrigierter Kommentar."}))]
pub(crate) struct EditBody {
    /// Must be the comment's author.
    #[schema(value_type = String, required)]
    author_id: Option<String>,
    /// The new text, under the same rules as a new comment's.
    #[schema(value_type = String, required)]
    body: Option<String>,
}

/// Checks that the caller speaks for the comment's author.
fn ensure_author(comment: &comment::Model, author_id: &str) -> Result<(), ApiError> {
    if comment.author_id == author_id.trim() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the author may change this comment".into(),
        ))
    }
}

/// The author edits a comment
///
/// Within `COMMENT_EDIT_MINUTES` (default 15) of posting, while the comment is visible and the
/// discussion is open.
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The edited comment.", body = dto::Comment),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the author, the edit window has passed or the comment is not visible; `discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a missing author_id or a bad body.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn edit_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let existing = load_comment(&state, &path).await?;
    let input = body.into_inner();
    let mut errors = FieldErrors::new();
    let author_id = required(&mut errors, "author_id", input.author_id);
    let text = required(&mut errors, "body", input.body).and_then(|b| {
        errors.check(
            "body",
            CommentBody::parse(&b, state.settings.moderation.comment_max_chars),
        )
    });
    errors.into_result()?;
    let (Some(author_id), Some(text)) = (author_id, text) else {
        return Err(ApiError::BadRequest("incomplete edit".into()));
    };
    ensure_author(&existing, &author_id)?;
    let now = clock::now();
    let article = crate::store::articles::find(&state.db, &existing.article_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("the comment's article is gone".into()))?;
    ensure_open(&state, &article, now).await?;
    if existing.status != CommentStatus::Visible.as_str() {
        return Err(ApiError::Forbidden(
            "this comment is not visible and can no longer be edited".into(),
        ));
    }
    let minutes = state.settings.moderation.comment_edit_minutes;
    if now >= existing.created_at + Duration::minutes(minutes) {
        return Err(ApiError::Forbidden(format!(
            "comments can be edited for {minutes} minutes after posting"
        )));
    }
    let updated = comments::edit_body(&state.db, existing, text.into_string(), now).await?;
    state.invalidate_article(&updated.article_id);
    Ok(HttpResponse::Ok().json(dto::Comment::view(&updated, caller.is_moderator())))
}

/// The author deletes their comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author_id": "u-123"}))]
pub(crate) struct DeleteBody {
    /// Must be the comment's author.
    #[schema(value_type = String, required)]
    author_id: Option<String>,
}

/// The author deletes a comment
///
/// While the discussion is open. Deleting a deleted comment changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = DeleteBody,
    responses(
        (status = 204, description = "The comment is deleted."),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the author; `discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `author_id` is missing.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn delete_comment(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let raw = read_body(payload).await?;
    let existing = load_comment(&state, &path).await?;
    let input: DeleteBody = if raw.is_empty() {
        DeleteBody { author_id: None }
    } else {
        parse_json(&raw)?
    };
    let Some(author_id) = input.author_id else {
        return Err(ApiError::field("author_id", "is required"));
    };
    ensure_author(&existing, &author_id)?;
    let now = clock::now();
    let article = crate::store::articles::find(&state.db, &existing.article_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("the comment's article is gone".into()))?;
    ensure_open(&state, &article, now).await?;
    let from = CommentStatus::parse(&existing.status).unwrap_or(CommentStatus::Hidden);
    if from != CommentStatus::Deleted {
        let txn = db::begin_write(&state.db, &state.write_gate).await?;
        comments::change_status(&*txn, &existing, from, CommentStatus::Deleted).await?;
        txn.commit().await?;
        state.invalidate_article(&existing.article_id);
    }
    Ok(HttpResponse::NoContent().finish())
}
