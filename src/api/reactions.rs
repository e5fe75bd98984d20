//! Readers' reactions to comments (service): one per reader and comment, idempotent.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, NoSuchComment};
use crate::api::routes::Documented;
use crate::auth::ServiceCaller;
use crate::domain::comment::parse_author_id;
use crate::error::ServiceError;
use crate::service::reactions::{self, Reaction};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        Documented::route(__path_put_reaction, put_reaction)
            .and(__path_delete_reaction, delete_reaction),
    );
}

/// A reader's reaction to a comment, and the comment's count after the request.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"comment_id": "42", "reader_id": "u-456", "reacted": true, "reaction_count": 17}))]
pub(crate) struct ReactionView {
    comment_id: String,
    reader_id: String,
    /// Whether the reader's reaction is recorded now.
    reacted: bool,
    /// Readers' reactions to the comment.
    reaction_count: i64,
}

impl From<Reaction> for ReactionView {
    fn from(r: Reaction) -> ReactionView {
        ReactionView {
            comment_id: r.comment.id.to_string(),
            reader_id: r.reader_id,
            reacted: r.reacted,
            reaction_count: r.reaction_count,
        }
    }
}

/// The path's comment id and reader id, the reader id checked as an author id is.
async fn react(
    state: &AppState,
    path: (String, String),
    react: bool,
) -> Result<HttpResponse, ServiceError> {
    let (comment_id, reader_id) = path;
    let reader_id =
        parse_author_id(&reader_id).map_err(|reason| ServiceError::field("reader_id", reason))?;
    let reaction = reactions::set(state, &comment_id, &reader_id, react).await?;
    Ok(HttpResponse::Ok().json(ReactionView::from(reaction)))
}

/// A reader reacts to a comment
///
/// One reaction per reader and comment: repeating it changes nothing and answers the same.
/// Only a visible comment of an open discussion takes reactions.
#[utoipa::path(
    put,
    path = "/comments/{id}/reactions/{reader_id}",
    tag = "comments",
    params(
        ("id" = String, Path, description = "The comment id."),
        ("reader_id" = String, Path, description = "The reader's id, as the website knows them (1 to 128 characters)."),
    ),
    responses(
        (status = 200, description = "The reaction is recorded; the comment's count.", body = ReactionView),
        (status = 403, description = "`discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        NoSuchComment,
        (status = 409, description = "`state_conflict`: the comment is not visible; `details.current` is its status.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad reader id.", body = ErrorBody),
    ),
)]
async fn put_reaction(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ServiceError> {
    react(&state, path.into_inner(), true).await
}

/// A reader takes their reaction back
///
/// Taking back a reaction that is not there changes nothing and answers the same.
#[utoipa::path(
    delete,
    path = "/comments/{id}/reactions/{reader_id}",
    tag = "comments",
    params(
        ("id" = String, Path, description = "The comment id."),
        ("reader_id" = String, Path, description = "The reader's id, as the website knows them (1 to 128 characters)."),
    ),
    responses(
        (status = 200, description = "The reader's reaction is gone; the comment's count.", body = ReactionView),
        (status = 403, description = "`discussion_closed`: the discussion is closed (`details.notice`).", body = ErrorBody),
        NoSuchComment,
        (status = 422, description = "`validation_failed`: a bad reader id.", body = ErrorBody),
    ),
)]
async fn delete_reaction(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ServiceError> {
    react(&state, path.into_inner(), false).await
}
