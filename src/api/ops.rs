//! `/healthz` (the process is up) and `/readyz` (the database answers).

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use serde_json::json;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{Health, Readiness};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_healthz, healthz))
        .service(Documented::route(__path_readyz, readyz))
        .service(Documented::route(__path_metrics, metrics));
}

/// Prometheus metrics
///
/// Requests by method, route template and status; a latency histogram; comments posted; flags;
/// discussions closed; the outbox by status (as the deliver job last counted it); the database
/// pool's size and idle connections.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format.", content_type = "text/plain", body = String)),
)]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // Nothing here asks the database (anyone may scrape): the outbox gauges are set by the
    // deliver job; the pools and the cache report what they hold in memory.
    let (size, idle) = crate::db::pool_stats(state.db());
    crate::metrics::set_pool(size, idle);
    let reader_idle = state.page_source().idle_connections();
    crate::metrics::set_page_cache(state.caches().pages.bytes(), reader_idle);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics().render())
}

/// The process is up
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "The process serves requests.", body = Health)),
)]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: the database answered.", body = Readiness),
        (status = 503, description = "Not ready: the database did not answer.", body = Readiness,
            example = json!({"status": "not_ready", "database": "unreachable"})),
    ),
)]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if crate::db::ping(state.db()).await {
        HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not_ready", "database": "unreachable"}))
    }
}
