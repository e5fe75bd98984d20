//! `PUT/GET /api/v1/topics/{slug}`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::api::{created_or_ok, dto, pagination, required};
use crate::auth::ServiceCaller;
use crate::clock;
use crate::domain::comment::parse_line;
use crate::domain::ids::{TopicSlug, parse_http_url};
use crate::error::{ApiError, FieldErrors};
use crate::startup::AppState;
use crate::store::{articles, topics};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/topics/{slug}")
            .route(web::put().to(put_topic))
            .route(web::get().to(get_topic)),
    );
}

#[derive(Deserialize)]
pub struct TopicBody {
    name: Option<String>,
    overview_url: Option<String>,
}

fn parse_slug(raw: &str) -> Result<TopicSlug, ApiError> {
    TopicSlug::parse(raw).map_err(|reason| ApiError::field("slug", reason))
}

async fn put_topic(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<TopicBody>,
) -> Result<HttpResponse, ApiError> {
    let slug = parse_slug(&path)?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = required(&mut errors, "name", body.name)
        .and_then(|n| errors.check("name", parse_line(&n, 128)));
    let url = required(&mut errors, "overview_url", body.overview_url)
        .and_then(|u| errors.check("overview_url", parse_http_url(&u)));
    errors.into_result()?;
    let (Some(name), Some(url)) = (name, url) else {
        return Err(ApiError::BadRequest("incomplete topic".into()));
    };
    let now = clock::now();
    let (topic, created) = topics::upsert(&state.db, slug.as_str(), &name, &url, now).await?;
    let current = articles::open_in_topic(&state.db, &topic.slug, now, None, 5).await?;
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

#[derive(Deserialize)]
pub struct TopicQuery {
    limit: Option<String>,
}

async fn get_topic(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<TopicQuery>,
) -> Result<HttpResponse, ApiError> {
    let slug = parse_slug(&path)?;
    let limit = pagination::limit(query.limit.as_deref(), 5)?;
    let topic = topics::find(&state.db, slug.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no topic `{}`", slug.as_str())))?;
    let current =
        articles::open_in_topic(&state.db, &topic.slug, clock::now(), None, limit).await?;
    Ok(HttpResponse::Ok().json(topic_view(topic, current)))
}
