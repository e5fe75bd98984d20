//! Editors' picks (moderator): a comment is featured or not.

use actix_web::{HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators, NoSuchComment};
use crate::api::routes::Documented;
use crate::auth::Moderator;
use crate::error::ServiceError;
use crate::service::{featured, reactions};
use crate::state::AppState;
use crate::views::dto;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_feature, feature).and(__path_unfeature, unfeature));
}

async fn set(
    state: &AppState,
    moderator: &crate::auth::Caller,
    id: &str,
    on: bool,
) -> Result<HttpResponse, ServiceError> {
    let comment = featured::set(state, moderator, id, on).await?;
    Ok(HttpResponse::Ok().json(reactions::view(state, &comment, true).await?))
}

/// Make a comment an editors' pick
///
/// Audit-logged (`feature`) and told to the website (`comment.featured`). Only a visible
/// comment can be featured; featuring it again changes nothing.
#[utoipa::path(
    put,
    path = "/comments/{id}/featured",
    tag = "moderation",
    params(("id" = String, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "The comment, featured.", body = dto::Comment),
        ForModerators,
        NoSuchComment,
        (status = 409, description = "`state_conflict`: the comment is not visible; `details.current` is its status.", body = ErrorBody),
    ),
)]
async fn feature(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    set(&state, &moderator, &path, true).await
}

/// Take a comment out of the editors' picks
///
/// Audit-logged (`unfeature`) and told to the website (`comment.featured` with `featured`
/// false). Taking back a pick that is not there changes nothing.
#[utoipa::path(
    delete,
    path = "/comments/{id}/featured",
    tag = "moderation",
    params(("id" = String, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "The comment, not featured.", body = dto::Comment),
        ForModerators,
        NoSuchComment,
    ),
)]
async fn unfeature(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    set(&state, &moderator, &path, false).await
}
