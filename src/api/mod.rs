//! HTTP handlers, one file per resource; each exposes `configure` to register its routes.

pub mod actions;
pub mod article_settings;
pub mod articles;
pub mod authors;
pub mod comment_pages;
pub mod comments;
pub mod error;
pub mod events;
pub mod featured;
pub mod flags;
pub mod legal;
pub mod live;
pub mod moderation;
pub mod notes;
pub mod openapi;
pub mod ops;
pub mod pagination;
pub mod privacy;
pub mod reactions;
pub mod report;
pub mod routes;
pub mod rules;
pub mod schema_rules;
pub mod topics;

use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;

use crate::error::ServiceError;
use utoipa_actix_web::service_config::ServiceConfig;

/// Largest request body the API accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `app` with every route, and `GET /openapi.json` serving the document collected from them.
pub fn app<T>(app: actix_web::App<T>) -> actix_web::App<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    // Every worker registers the routes (and so collects the document); the JSON served is
    // the same for all of them and written once per process.
    static JSON: std::sync::OnceLock<web::Data<openapi::DocumentJson>> = std::sync::OnceLock::new();
    let (app, document) = openapi::collect(app);
    let json = JSON.get_or_init(|| web::Data::new(openapi::DocumentJson::new(&document)));
    app.app_data(json.clone())
}

/// Registers every route and the extractor settings that turn bad input into the error shape.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.app_data(json_config(MAX_BODY_BYTES))
        .app_data(web::PayloadConfig::default().limit(MAX_BODY_BYTES))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .configure(ops::configure)
        // actix-web tries resources in the order they are registered, running each dynamic
        // pattern's regex until one matches: the API (and in it the comment pages the website
        // reads most) comes first. No two patterns match the same path, so the order changes
        // nothing else. (The regex captures were 7 % of a cached page's CPU.)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(comments::configure)
                .configure(articles::configure)
                .configure(article_settings::configure)
                .configure(topics::configure)
                .configure(flags::configure)
                .configure(legal::configure)
                .configure(moderation::configure)
                .configure(report::configure)
                .configure(rules::configure)
                .configure(authors::configure)
                .configure(notes::configure)
                .configure(reactions::configure)
                .configure(featured::configure)
                .configure(privacy::configure)
                .configure(events::configure),
        )
        .configure(live::configure)
        .configure(openapi::configure)
        .configure(actions::configure)
        .configure(crate::console::configure)
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ServiceError> {
    Err(ServiceError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

/// How JSON bodies of up to `limit` bytes are read; bad ones get the error shape.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(false)
        .error_handler(move |err, _| json_error(err, limit))
}

fn json_error(err: JsonPayloadError, limit: usize) -> actix_web::Error {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ServiceError::PayloadTooLarge(limit).into()
        }
        JsonPayloadError::Payload(PayloadError::Overflow) => {
            ServiceError::PayloadTooLarge(limit).into()
        }
        JsonPayloadError::Deserialize(e) => {
            ServiceError::BadRequest(format!("the body is not valid JSON for this request: {e}"))
                .into()
        }
        other => ServiceError::BadRequest(format!("the body could not be read: {other}")).into(),
    }
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ServiceError::BadRequest(format!("bad query string: {err}")).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ServiceError::BadRequest(format!("bad path: {err}")).into()
}

/// Gives every error response that did not come from `ServiceError` (such as actix-web's own 405) the
/// contract's JSON shape.
pub fn error_shape<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let status = res.status();
    if is_json
        || !(status.is_client_error() || status.is_server_error())
        || res.request().path().starts_with("/moderation/actions")
        || res.request().path().starts_with("/console")
    {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = status.canonical_reason().unwrap_or("error").to_string();
    let body =
        serde_json::json!({"error": {"code": code, "message": message, "details": {}}}).to_string();
    let (req, res) = res.into_parts();
    let mut res = res.set_body(actix_web::body::BoxBody::new(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}

/// Reads a raw body up to the size limit (for handlers that also need its bytes, such as
/// idempotent ones).
pub async fn read_body(mut payload: web::Payload) -> Result<web::Bytes, ServiceError> {
    use futures_util::StreamExt;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ServiceError::BadRequest(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ServiceError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a raw JSON body.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServiceError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ServiceError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    serde_json::from_slice(body).map_err(|e| {
        ServiceError::BadRequest(format!("the body is not valid JSON for this request: {e}"))
    })
}

/// `201 Created` or `200 OK` with a JSON body.
pub fn created_or_ok(created: bool, body: &impl serde::Serialize) -> HttpResponse {
    if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// A required field of a request body: missing or null is a field error.
pub fn required<T>(
    errors: &mut crate::error::FieldErrors,
    name: &str,
    value: Option<T>,
) -> Option<T> {
    if value.is_none() {
        errors.add(name, "is required");
    }
    value
}
