//! `GET /live/articles/{id}`: a discussion's changes as Server-Sent Events, for readers'
//! browsers (public, no token; see `live`).

use std::collections::{HashSet, VecDeque};

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::articles::parse_article_id;
use crate::api::openapi::{ErrorBody, NoSuchArticle};
use crate::api::routes::Documented;
use crate::error::ServiceError;
use crate::live::render::{frames, reset_frame};
use crate::live::stream::{self, Opening};
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        Documented::route(__path_live_article, live_article)
            .and(__path_live_preflight, live_preflight),
    );
}

/// How long a browser waits before it reconnects a dropped stream (milliseconds).
const RETRY_MS: u32 = 3000;

/// One event of the stream, as a client parses it (`id:`, `event:`, `data:` lines).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the stream's events; they are written as text
pub(crate) struct LiveEvent {
    event: LiveEventName,
    /// JSON: the Comment view, `{"article_id", "status"}` for the discussion's events, `{}` for
    /// `reset`.
    #[schema(content_media_type = "application/json")]
    data: String,
    /// The event's id, for `Last-Event-ID` (none on `reset`).
    #[schema(pattern = "^[0-9]{1,18}$")]
    id: Option<String>,
}

/// The names of the stream's events.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) enum LiveEventName {
    #[schema(rename = "comment.created")]
    CommentCreated,
    #[schema(rename = "comment.edited")]
    CommentEdited,
    #[schema(rename = "comment.removed")]
    CommentRemoved,
    #[schema(rename = "discussion.closed")]
    DiscussionClosed,
    #[schema(rename = "discussion.reopened")]
    DiscussionReopened,
    #[schema(rename = "reactions")]
    Reactions,
    #[schema(rename = "reset")]
    Reset,
}

/// The discussion's changes as they happen.
///
/// Events (each with an `id:`): `comment.created` (a comment readers can now see, also when a
/// moderator approved it), `comment.edited`, `comment.removed` (hidden, deleted or erased: the
/// placeholder view), `discussion.closed`, `discussion.reopened`, `reactions` (a comment's new `reaction_count`, at most once a second per comment), and `reset` when what a
/// reconnecting reader missed is no longer kept (reload the thread). A comment line
/// (`: heartbeat`) every 15 s. `data:` is the Comment view as `GET .../comments` shows it, or
/// `{"article_id", "status"}` for the discussion's events.
#[utoipa::path(
    get,
    path = "/live/articles/{id}",
    tag = "live",
    params(
        ("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id."),
        ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = "^[0-9]{1,18}$", description = "The id of the last event received; the stream starts with what followed it."),
    ),
    responses(
        (status = 200, description = "The stream (`text/event-stream`).", content_type = "text/event-stream", body = LiveEvent),
        (status = 400, description = "`bad_request`: `Last-Event-ID` is not an event id.", body = ErrorBody),
        NoSuchArticle,
        (status = 422, description = "`validation_failed`: a malformed id.", body = ErrorBody),
        (status = 503, description = "`unavailable`: the server holds `LIVE_MAX_SUBSCRIBERS` streams; retry later.", body = ErrorBody),
    ),
)]
async fn live_article(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ServiceError> {
    let article_id = parse_article_id(&path)?;
    let last_event_id = last_event_id(&req)?;
    if store::articles::find(state.db(), article_id.as_str())
        .await?
        .is_none()
    {
        return Err(ServiceError::NotFound(format!(
            "no article {}",
            article_id.as_str()
        )));
    }
    let live = state.live();
    let unavailable = || {
        ServiceError::Unavailable(
            "this server follows as many live discussions as it may; retry later".into(),
        )
    };
    if live.is_shut_down() {
        return Err(unavailable());
    }
    let subscription = live
        .subscribe(article_id.as_str())
        .ok_or_else(unavailable)?;
    // Whatever the pump publishes from here on reaches the subscription; what it published up
    // to `position` is read from the table.
    let position = live.position();
    let mut opening = Opening {
        frames: VecDeque::from([Bytes::from(format!("retry: {RETRY_MS}\n\n"))]),
        seen_upto: last_event_id.unwrap_or(0),
        replayed: HashSet::new(),
    };
    match last_event_id {
        Some(last) if last < position => {
            let kept_from = store::live::oldest(state.db()).await?;
            if kept_from.is_some_and(|oldest| oldest > last + 1) {
                opening.frames.push_back(reset_frame());
                opening.frames.push_back(id_only(position));
            } else {
                let rows = store::live::of_article(state.db(), article_id.as_str(), last, position)
                    .await?;
                let rows = crate::live::render::newest_reactions(rows);
                // What this reader missed, each comment's newest count once.
                let mut counts = std::collections::HashMap::new();
                for frame in frames(state.db(), &rows, &mut counts).await? {
                    opening.replayed.insert(frame.id);
                    opening.frames.push_back(frame.bytes);
                }
            }
        }
        Some(_) => {}
        // A reader's browser keeps this id, so that a reconnect asks for what followed it.
        None => opening.frames.push_back(id_only(position)),
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"));
    allow_origin(&state, &req, &mut response);
    Ok(response.streaming(stream::body(subscription, opening, stream::HEARTBEAT)))
}

/// The CORS preflight of a stream's request (a browser asks before it sends `Last-Event-ID`).
#[utoipa::path(
    options,
    path = "/live/articles/{id}",
    tag = "live",
    params(("id" = String, Path, description = "The article id.")),
    responses((status = 204, description = "What a page of an origin in `LIVE_ALLOWED_ORIGINS` may send.")),
)]
async fn live_preflight(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    if allow_origin(&state, &req, &mut response) {
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET"))
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Last-Event-ID, Cache-Control",
            ))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"));
    }
    response.finish()
}

/// A frame that only sets the reader's last event id.
fn id_only(id: i64) -> Bytes {
    Bytes::from(format!("id: {id}\n\n"))
}

fn last_event_id(req: &HttpRequest) -> Result<Option<i64>, ServiceError> {
    let Some(raw) = req.headers().get("Last-Event-ID") else {
        return Ok(None);
    };
    // What this stream gave out: up to 18 digits (a browser sends nothing rather than an
    // empty id).
    let raw = raw.to_str().unwrap_or("");
    let digits = !raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<i64>() {
        Ok(id) if digits => Ok(Some(id)),
        _ => Err(ServiceError::BadRequest(format!(
            "Last-Event-ID `{}` is not an event id of this stream",
            raw.chars().take(40).collect::<String>()
        ))),
    }
}

/// Names the request's origin as allowed when it is one of `LIVE_ALLOWED_ORIGINS`.
fn allow_origin(state: &AppState, req: &HttpRequest, response: &mut HttpResponseBuilder) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return false;
    };
    response.insert_header((header::VARY, "Origin"));
    let allowed = state
        .settings()
        .live
        .allowed_origins
        .iter()
        .any(|a| a == origin);
    if allowed && let Ok(value) = HeaderValue::from_str(origin) {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, value));
    }
    allowed
}
