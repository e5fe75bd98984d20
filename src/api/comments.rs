//! Comments: post (idempotent, rate-limited), list, replies, get, edit, delete.

use crate::api::routes::Documented;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::articles::parse_article_id;
use crate::api::openapi::{ErrorBody, JsonBody};
use crate::api::pagination::IdPage;
use crate::api::{comment_pages, pagination, parse_json, read_body, required};
use crate::auth::ServiceCaller;
use crate::cache::PageKey;
use crate::domain::comment::{Badges, CommentBody, parse_author_id, parse_author_name};
use crate::domain::ids::CommentId;
use crate::domain::states::CommentOrder;
use crate::error::{FieldErrors, ServiceError};
use crate::service::comments::{self, NewComment};
use crate::service::idempotency::{KeyedRequest, StoredResponse};
use crate::service::reactions;
use crate::state::AppState;
use crate::store::comments::{self as store, Order};
use crate::views::dto;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        Documented::route(__path_post_comment, post_comment)
            .and(__path_list_comments, list_comments),
    )
    .service(Documented::route(__path_list_replies, list_replies))
    .service(
        Documented::route(__path_get_comment, get_comment)
            .and(__path_edit_comment, edit_comment)
            .and(__path_delete_comment, delete_comment),
    );
}

/// The author of a new comment, as the website knows them.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AuthorBody {
    #[schema(schema_with = crate::api::schema_rules::author_id, required)]
    id: Option<String>,
    #[schema(schema_with = crate::api::schema_rules::author_name, required)]
    name: Option<String>,
    /// Labels the comment shows with the author's name (default none).
    #[schema(value_type = Option<Vec<dto::Badge>>, nullable = false)]
    badges: Option<Vec<String>>,
}

/// A new comment or reply.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author": {"id": "u-123", "name": "Leser123"}, "body": "Ein Kommentar.", "parent_id": null}))]
pub(crate) struct NewCommentBody {
    #[schema(value_type = AuthorBody, required)]
    author: Option<AuthorBody>,
    #[schema(schema_with = crate::api::schema_rules::comment_body, required)]
    body: Option<String>,
    /// A visible comment of the same article to reply to; null or absent for a top-level comment.
    parent_id: Option<String>,
}

const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ServiceError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ServiceError::BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
        })?;
    Ok(Some(key.to_string()))
}

fn respond(response: StoredResponse) -> Result<HttpResponse, ServiceError> {
    let status = StatusCode::from_u16(response.status).map_err(ServiceError::internal)?;
    let mut builder = HttpResponse::build(status);
    builder.content_type("application/json");
    if response.replayed {
        builder.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(builder.body(response.body))
}

/// Parses a new comment's fields, reporting every bad one at once.
fn parse_new_comment(input: NewCommentBody, max_chars: usize) -> Result<NewComment, ServiceError> {
    let mut errors = FieldErrors::new();
    let author = required(&mut errors, "author", input.author);
    let (author_id, author_name, author_badges) = match author {
        Some(a) => (
            required(&mut errors, "author.id", a.id)
                .and_then(|v| errors.check("author.id", parse_author_id(&v))),
            required(&mut errors, "author.name", a.name)
                .and_then(|v| errors.check("author.name", parse_author_name(&v))),
            errors.check(
                "author.badges",
                Badges::parse(a.badges.as_deref().unwrap_or_default()),
            ),
        ),
        None => (None, None, None),
    };
    let body = required(&mut errors, "body", input.body)
        .and_then(|b| errors.check("body", CommentBody::parse(&b, max_chars)));
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
    match (author_id, author_name, author_badges, body) {
        (Some(author_id), Some(author_name), Some(author_badges), Some(body)) => Ok(NewComment {
            author_id,
            author_name,
            author_badges,
            body,
            parent_id,
        }),
        _ => Err(ServiceError::BadRequest("incomplete comment".into())),
    }
}

/// Post a comment or reply
///
/// The same `Idempotency-Key` with the same body returns the first response and creates nothing.
/// More than `COMMENT_RATE_LIMIT` (default 5) comments by one author per minute: 429.
#[utoipa::path(
    post,
    path = "/articles/{id}/comments",
    tag = "comments",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`."),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, description = "1 to 255 visible ASCII characters; makes retries safe."),
    ),
    request_body = NewCommentBody,
    responses(
        (status = 201, description = "The comment (also when an idempotent request is replayed; then with `Idempotent-Replayed: true`).", body = dto::Comment,
            headers(("Idempotent-Replayed" = String, description = "`true` when this is the stored response of an earlier request with the same key."))),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape, or a bad `Idempotency-Key`.", body = ErrorBody),
        (status = 403, description = "`discussion_closed`: the discussion is closed; `details.notice` holds the Notice.", body = ErrorBody),
        crate::api::openapi::NoSuchArticle,
        (status = 409, description = "`idempotency_conflict`: the `Idempotency-Key` was used with another body.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad article id, author, body or parent_id.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many comments by this author.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
)]
async fn post_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ServiceError> {
    let article_id = parse_article_id(&path)?;
    let raw = read_body(payload).await?;
    let keyed =
        idempotency_key(&req)?.map(|key| KeyedRequest::new(&caller.name, key, req.path(), &raw));
    let input = parse_new_comment(
        parse_json(&raw)?,
        state.settings().moderation.comment_max_chars,
    )?;
    let response = comments::post(&state, &caller, &article_id, input, keyed).await?;
    respond(response)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    #[param(value_type = Option<CommentOrder>, required = false)]
    order: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `true`: only the editors' picks (default `false`).
    #[param(value_type = Option<bool>, required = false)]
    featured: Option<String>,
}

/// An article's top-level comments
///
/// With the article (and its discussion state). Replies are listed per comment.
#[utoipa::path(
    get,
    path = "/articles/{id}/comments",
    tag = "comments",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`."), ListQuery),
    responses(
        (status = 200, description = "A page of top-level comments.", body = dto::CommentPage),
        crate::api::openapi::ListQuery,
        crate::api::openapi::NoSuchArticle,
        (status = 422, description = "`validation_failed`: a bad article id, order, limit or featured.", body = ErrorBody),
    ),
)]
async fn list_comments(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ServiceError> {
    let article_id = parse_article_id(&path)?;
    let order = match query.order.as_deref() {
        None => CommentOrder::Newest,
        Some(raw) => raw
            .parse::<CommentOrder>()
            .map_err(|_| ServiceError::field("order", "must be `newest` or `oldest`"))?,
    };
    let (order, tag) = match order {
        CommentOrder::Newest => (Order::Newest, "n"),
        CommentOrder::Oldest => (Order::Oldest, "o"),
    };
    let key = PageKey {
        order: tag,
        after: pagination::id_after(query.cursor.as_deref(), tag)?,
        limit: pagination::limit(query.limit.as_deref(), pagination::DEFAULT_LIMIT)?,
        moderator: caller.is_moderator(),
        featured: match query.featured.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(ServiceError::field("featured", "must be `true` or `false`")),
        },
    };
    let body = comment_pages::page_body(&state, article_id.as_str(), order, key).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// A comment's replies, oldest first
#[utoipa::path(
    get,
    path = "/comments/{id}/replies",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id."), pagination::PageQuery),
    responses(
        (status = 200, description = "A page of replies.", body = dto::ReplyPage),
        crate::api::openapi::ListQuery,
        crate::api::openapi::NoSuchComment,
        (status = 422, description = "`validation_failed`: a bad limit.", body = ErrorBody),
    ),
)]
async fn list_replies(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ServiceError> {
    let parent = comments::load(&state, &path).await?;
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "r")?;
    let moderator = caller.is_moderator();
    let (after, limit) = (page.before, page.limit + 1);
    let rows = store::replies(
        state.db(),
        parent.id,
        Order::Oldest,
        after,
        limit,
        !moderator,
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| c.id);
    Ok(HttpResponse::Ok().json(dto::ReplyPage {
        comments: reactions::views(&state, &rows, moderator).await?,
        next_cursor,
    }))
}

/// One comment
#[utoipa::path(
    get,
    path = "/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "The comment.", body = dto::Comment),
        crate::api::openapi::NoSuchComment,
    ),
)]
async fn get_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let comment = comments::load(&state, &path).await?;
    Ok(HttpResponse::Ok().json(reactions::view(&state, &comment, caller.is_moderator()).await?))
}

/// The author edits their comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author_id": "u-123", "body": "Ein korrigierter Kommentar."}))]
pub(crate) struct EditBody {
    /// Must be the comment's author.
    #[schema(schema_with = crate::api::schema_rules::author_id, required)]
    author_id: Option<String>,
    /// The new text, under the same rules as a new comment's.
    #[schema(schema_with = crate::api::schema_rules::comment_body, required)]
    body: Option<String>,
}

/// The author edits a comment
///
/// Within `COMMENT_EDIT_MINUTES` (default 15) of posting, while the comment is visible and the
/// discussion is open.
#[utoipa::path(
    patch,
    path = "/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = EditBody,
    responses(
        (status = 200, description = "The edited comment.", body = dto::Comment),
        JsonBody,
        (status = 403, description = "`forbidden`: not the author, or the edit window has passed; `discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        crate::api::openapi::NoSuchComment,
        (status = 409, description = "`state_conflict`: the comment is no longer the author's visible comment (held, hidden or deleted, perhaps by a decision made while the edit was on its way); `details.current` is its status. Nothing changed.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a missing author_id or a bad body.", body = ErrorBody),
    ),
)]
async fn edit_comment(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, ServiceError> {
    let input = body.into_inner();
    let mut errors = FieldErrors::new();
    let author_id = required(&mut errors, "author_id", input.author_id);
    let text = required(&mut errors, "body", input.body).and_then(|b| {
        errors.check(
            "body",
            CommentBody::parse(&b, state.settings().moderation.comment_max_chars),
        )
    });
    errors.into_result()?;
    let (Some(author_id), Some(text)) = (author_id, text) else {
        return Err(ServiceError::BadRequest("incomplete edit".into()));
    };
    let updated = comments::edit(&state, &path, &author_id, text).await?;
    let reaction_count = reactions::reaction_count(&state, updated.id).await?;
    Ok(HttpResponse::Ok().json(dto::Comment::own(
        &updated,
        reaction_count,
        caller.is_moderator(),
    )))
}

/// The author deletes their comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author_id": "u-123"}))]
pub(crate) struct DeleteBody {
    /// Must be the comment's author.
    #[schema(schema_with = crate::api::schema_rules::author_id, required)]
    author_id: Option<String>,
}

/// The author deletes a comment
///
/// Their visible comment, while the discussion is open. Deleting it again changes nothing.
#[utoipa::path(
    delete,
    path = "/comments/{id}",
    tag = "comments",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = DeleteBody,
    responses(
        (status = 204, description = "The comment is deleted."),
        JsonBody,
        (status = 403, description = "`forbidden`: not the author; `discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        crate::api::openapi::NoSuchComment,
        (status = 409, description = "`state_conflict`: the comment is held, hidden or deleted by a moderator (perhaps by a decision made while the delete was on its way); `details.current` is its status. Nothing changed.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `author_id` is missing.", body = ErrorBody),
    ),
)]
async fn delete_comment(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ServiceError> {
    let raw = read_body(payload).await?;
    let input: DeleteBody = if raw.is_empty() {
        DeleteBody { author_id: None }
    } else {
        parse_json(&raw)?
    };
    let Some(author_id) = input.author_id else {
        return Err(ServiceError::field("author_id", "is required"));
    };
    comments::delete(&state, &path, &author_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
