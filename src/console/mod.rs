//! The community team's console: server-rendered German pages under `/console` that work
//! without JavaScript. Handlers parse the form, call the service function the API calls, and
//! render; sessions live in the database (see `session`).
//!
//! Every page is sent with `Content-Security-Policy: default-src 'self'` (no inline script or
//! style: the one style sheet and the one script are served by the binary), `Cache-Control:
//! no-store` and `Referrer-Policy: same-origin`.

mod articles;
mod authors;
mod comment;
mod decision;
mod form;
mod login;
mod pages;
mod queue;
mod records;
mod rules;
mod session;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};

pub use pages::ConsoleError;

/// The largest form the console reads (but the rules').
const MAX_FORM_BYTES: usize = 16 * 1024;
use crate::api::rules::RULES_MAX_BODY_BYTES;

/// Registers the console's routes (HTML pages: not part of the OpenAPI document).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.map(|cfg| {
        cfg.service(
            web::scope("/console")
                .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
                .service(
                    web::resource("/login")
                        .route(web::get().to(login::page))
                        .route(web::post().to(login::sign_in)),
                )
                .service(web::resource("/logout").route(web::post().to(login::sign_out)))
                .service(web::resource("/queue").route(web::get().to(queue::page)))
                .service(web::resource("/counts").route(web::get().to(queue::counts)))
                .service(web::resource("/comments/{id}").route(web::get().to(comment::page)))
                .service(
                    web::resource("/comments/{id}/decision")
                        .route(web::post().to(decision::decide)),
                )
                .service(web::resource("/authors/{id}").route(web::get().to(authors::page)))
                .service(
                    web::resource("/authors/{id}/status")
                        .route(web::post().to(authors::set_status)),
                )
                .service(
                    web::resource("/authors/{id}/notes").route(web::post().to(authors::add_note)),
                )
                .service(web::resource("/articles/{id}").route(web::get().to(articles::page)))
                .service(
                    web::resource("/articles/{id}/settings")
                        .route(web::post().to(articles::set_settings)),
                )
                .service(
                    web::resource("/articles/{id}/close").route(web::post().to(articles::close)),
                )
                .service(
                    web::resource("/articles/{id}/reopen").route(web::post().to(articles::reopen)),
                )
                .service(
                    web::resource("/rules")
                        // The lists may hold 10,000 entries each, as through the API.
                        .app_data(web::FormConfig::default().limit(RULES_MAX_BODY_BYTES))
                        .route(web::get().to(rules::page))
                        .route(web::post().to(rules::save)),
                )
                .service(web::resource("/rules/test").route(web::post().to(rules::test)))
                .service(web::resource("/log").route(web::get().to(records::log)))
                .service(web::resource("/deliveries").route(web::get().to(records::deliveries)))
                .service(web::resource("/static/console.css").route(web::get().to(style_sheet)))
                .service(web::resource("/static/console.js").route(web::get().to(script)))
                .service(web::resource("").route(web::get().to(home)))
                .service(web::resource("/").route(web::get().to(home)))
                .default_service(web::to(pages::not_found)),
        )
    });
}

const STYLE_SHEET: &str = include_str!("static/console.css");
const SCRIPT: &str = include_str!("static/console.js");

/// Static files may be kept a day; a new release changes their query string (`?v=`).
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(body);
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn style_sheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE_SHEET)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn home() -> HttpResponse {
    pages::see_other("/console/queue")
}
