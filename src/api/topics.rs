//! `PUT/GET /api/v1/topics/{slug}`.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, JsonBody};
use crate::api::{created_or_ok, pagination, required};
use crate::auth::ServiceCaller;
use crate::domain::comment::parse_line;
use crate::domain::ids::{TopicSlug, parse_http_url};
use crate::error::{FieldErrors, ServiceError};
use crate::service::topics as service;
use crate::state::AppState;
use crate::store::{articles, topics};
use crate::views::dto;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_put_topic, put_topic).and(__path_get_topic, get_topic));
}

/// A topic to create or update.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ausland", "overview_url": "https://www.krone.at/ausland"}))]
pub struct TopicBody {
    #[schema(schema_with = crate::api::schema_rules::topic_name, required)]
    name: Option<String>,
    /// The topic's overview page (http or https).
    #[schema(schema_with = crate::api::schema_rules::http_url, required)]
    overview_url: Option<String>,
}

fn parse_slug(raw: &str) -> Result<TopicSlug, ServiceError> {
    TopicSlug::parse(raw).map_err(|reason| ServiceError::field("slug", reason))
}

/// Create or update a topic
///
/// Needs a service (or moderator) token. 201 when the topic is new, 200 when it was updated.
#[utoipa::path(
    put,
    path = "/topics/{slug}",
    tag = "topics",
    params(("slug" = String, Path, pattern = "^[a-z0-9][a-z0-9-]{0,63}$", min_length = 1, max_length = 64, description = "The topic's slug: `^[a-z0-9][a-z0-9-]{0,63}$`.")),
    request_body = TopicBody,
    responses(
        (status = 200, description = "The topic was updated.", body = dto::Topic),
        (status = 201, description = "The topic was created.", body = dto::Topic),
        JsonBody,
        (status = 422, description = "`validation_failed`: a bad slug, name or overview_url.", body = ErrorBody),
    ),
)]
async fn put_topic(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<TopicBody>,
) -> Result<HttpResponse, ServiceError> {
    let slug = parse_slug(&path)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = required(&mut errors, "name", body.name)
        .and_then(|n| errors.check("name", parse_line(&n, 128)));
    let url = required(&mut errors, "overview_url", body.overview_url)
        .and_then(|u| errors.check("overview_url", parse_http_url(&u)));
    errors.into_result()?;
    let (Some(name), Some(url)) = (name, url) else {
        return Err(ServiceError::BadRequest("incomplete topic".into()));
    };
    let (topic, current, created) = service::put(&state, &slug, &name, &url).await?;
    Ok(created_or_ok(created, &topic_view(topic, current)))
}

fn topic_view(
    topic: crate::entity::topic::Model,
    current: Vec<crate::entity::article::Model>,
) -> dto::Topic {
    dto::Topic {
        slug: topic.slug,
        name: topic.name,
        overview_url: topic.overview_url,
        current_articles: current.iter().map(dto::ArticleSummary::from).collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicQuery {
    /// How many current articles to return (1 to 100, default 5).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// A topic with its current articles
///
/// The newest articles of the topic whose discussion is open, newest first.
#[utoipa::path(
    get,
    path = "/topics/{slug}",
    tag = "topics",
    params(("slug" = String, Path, pattern = "^[a-z0-9][a-z0-9-]{0,63}$", min_length = 1, max_length = 64, description = "The topic's slug: `^[a-z0-9][a-z0-9-]{0,63}$`."), TopicQuery),
    responses(
        (status = 200, description = "The topic.", body = dto::Topic),
        (status = 400, description = "`bad_request`: a query parameter given twice.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such topic.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad slug or limit.", body = ErrorBody),
    ),
)]
async fn get_topic(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TopicQuery>,
) -> Result<HttpResponse, ServiceError> {
    let slug = parse_slug(&path)?;
    let limit = pagination::limit(query.limit.as_deref(), service::DEFAULT_CURRENT_ARTICLES)?;
    let topic = topics::find(state.db(), slug.as_str())
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no topic `{}`", slug.as_str())))?;
    let current =
        articles::open_in_topic(state.db(), &topic.slug, state.clock().now(), limit).await?;
    Ok(HttpResponse::Ok().json(topic_view(topic, current)))
}
