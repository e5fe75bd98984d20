//! The settings of an article's discussion (moderator): premoderation, the article's link rule
//! and a message for its readers.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::articles::parse_article_id;
use crate::api::openapi::{ErrorBody, ForModerators, JsonBody};
use crate::api::routes::Documented;
use crate::auth::Moderator;
use crate::domain::comment::CommentBody;
use crate::domain::states::{ArticleLinkPolicy, Via};
use crate::error::{FieldErrors, ServiceError};
use crate::service::article_views;
use crate::service::articles::{self as service, SettingsChange};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// The longest message, in characters after trimming.
pub const MAX_MESSAGE_CHARS: usize = 1000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_put_settings, put_settings));
}

/// The settings of an article's discussion; omitted fields take their defaults.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"premod": true, "links": "reject", "message": "Diese Diskussion wird vorab moderiert."}))]
pub(crate) struct SettingsBody {
    /// Hold every new comment (and edit) of the article for review (default false).
    #[serde(default)]
    premod: bool,
    /// `inherit` (the default: the content rules' link rule), `allow`, `premod` or `reject`.
    #[schema(value_type = Option<ArticleLinkPolicy>)]
    links: Option<String>,
    /// What the discussion's readers are told (up to 1,000 characters; null or empty: none).
    #[schema(schema_with = crate::api::schema_rules::article_message)]
    message: Option<String>,
}

/// Set up an article's discussion
///
/// `premod` holds every new comment of the article for review, as for an author in premod;
/// `links` puts a link rule in place of the content rules' one for this article (a comment with a
/// link is published, held, or refused with `comment_rejected`, rule `links`), checked where the
/// content rules check links: after banned words and repeat posts. In force for the next comment
/// at once; the Article's `settings` show them. Audit-logged (`article_settings`).
#[utoipa::path(
    put,
    path = "/articles/{id}/settings",
    tag = "articles",
    params(("id" = String, Path, pattern = "^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128, description = "The article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.")),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The article with its new settings.", body = crate::views::dto::Article),
        JsonBody,
        ForModerators,
        (status = 404, description = "`not_found`: no such article.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an unknown `links` value, a message over 1,000 characters, or a bad article id.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn put_settings(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, ServiceError> {
    let id = parse_article_id(&path)?;
    let body = body.into_inner();
    let change = parse_settings(body.premod, body.links.as_deref(), body.message.as_deref())?;
    let article = service::set_settings(&state, &moderator, Via::Api, &id, change).await?;
    let view = article_views::article(&state, &article, state.clock().now()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Parses an article's settings (the API's and the console's): every bad field at once.
pub(crate) fn parse_settings(
    premod: bool,
    links: Option<&str>,
    message: Option<&str>,
) -> Result<SettingsChange, ServiceError> {
    let mut errors = FieldErrors::new();
    let links = match links {
        None => Some(ArticleLinkPolicy::Inherit),
        Some(raw) => errors.check(
            "links",
            raw.parse::<ArticleLinkPolicy>()
                .map_err(|_| "must be `inherit`, `allow`, `premod` or `reject`"),
        ),
    };
    let message = match message {
        Some(raw) if !raw.trim().is_empty() => errors
            .check("message", CommentBody::parse(raw, MAX_MESSAGE_CHARS))
            .map(CommentBody::into_string),
        _ => None,
    };
    errors.into_result()?;
    let Some(links) = links else {
        return Err(ServiceError::BadRequest("incomplete settings".into()));
    };
    Ok(SettingsChange {
        premod,
        links,
        message,
    })
}
