//! Rendering the console's pages and its error pages.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, Value, context};

use crate::error::ServiceError;
use crate::state::AppState;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("login.html", include_str!("templates/login.html")),
    ("queue.html", include_str!("templates/queue.html")),
    (
        "decision_form.html",
        include_str!("templates/decision_form.html"),
    ),
    (
        "statement_fields.html",
        include_str!("templates/statement_fields.html"),
    ),
    ("comment.html", include_str!("templates/comment.html")),
    ("author.html", include_str!("templates/author.html")),
    ("article.html", include_str!("templates/article.html")),
    ("rules.html", include_str!("templates/rules.html")),
    ("log.html", include_str!("templates/log.html")),
    ("deliveries.html", include_str!("templates/deliveries.html")),
    ("message.html", include_str!("templates/message.html")),
];

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(crate::mail::readable_html_formatter);
    env.add_filter("de", |word: String| super::form::german(&word).to_string());
    env.add_filter("urlencode", |value: String| path_segment(&value));
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env
});

/// A console page with the console's headers.
pub fn render(status: StatusCode, template: &str, ctx: Value) -> HttpResponse {
    let mut response = match PAGES.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, template, "rendering a console page failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Interner Fehler")
        }
    };
    secure_headers(&mut response);
    response
}

/// The headers of every console answer.
pub fn secure_headers(response: &mut HttpResponse) {
    crate::api::actions::page_headers(
        response,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
        "same-origin",
    );
    response.headers_mut().insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
}

/// 303 to `location` (after a POST, or to the login).
pub fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish();
    secure_headers(&mut response);
    response
}

/// `value` as one segment of a path, percent-encoded.
pub fn path_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A page with a title and one message.
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    render(status, "message.html", context! { title, message => text })
}

/// A time as the newsroom reads it: `03.12.2026, 14:05 Uhr`.
pub fn local_time(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.settings().lifecycle.newsroom_timezone)
        .format("%d.%m.%Y, %H:%M Uhr")
        .to_string()
}

/// What is left until `due` (`noch 3 Std. 20 Min.`), or how long it is overdue.
pub fn remaining(now: DateTime<Utc>, due: DateTime<Utc>) -> String {
    let left = due - now;
    let minutes = left.num_minutes().abs();
    let span = format!("{} Std. {} Min.", minutes / 60, minutes % 60);
    if left.num_seconds() >= 0 {
        format!("noch {span}")
    } else {
        format!("seit {span} überfällig")
    }
}

/// Why a console request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not signed in (or the session ended): to the login.
    #[error("not signed in")]
    SignIn,
    /// A POST without the session's form token.
    #[error("the form token is missing or wrong")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Api(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for ConsoleError {
    fn from(e: sea_orm::DbErr) -> ConsoleError {
        ConsoleError::Api(e.into())
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::Api(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ConsoleError::SignIn => see_other("/console/login"),
            ConsoleError::Csrf => message(
                StatusCode::FORBIDDEN,
                "Formular abgelaufen",
                "Dieses Formular gehört nicht zu Ihrer Anmeldung; es wurde nichts geändert. \
                 Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
            ),
            ConsoleError::NotFound => not_found_page(),
            ConsoleError::Api(ServiceError::NotFound(_)) => not_found_page(),
            ConsoleError::Api(e) => {
                let status = e.status_code();
                if status.is_server_error() {
                    tracing::error!(error = ?e, "a console request failed");
                    message(
                        status,
                        "Fehler",
                        "Das hat nicht geklappt. Bitte versuchen Sie es gleich noch einmal.",
                    )
                } else {
                    message(status, "Nicht möglich", &e.to_string())
                }
            }
        }
    }
}

fn not_found_page() -> HttpResponse {
    message(
        StatusCode::NOT_FOUND,
        "Nicht gefunden",
        "Diese Seite oder diesen Kommentar gibt es nicht.",
    )
}

pub async fn not_found() -> HttpResponse {
    not_found_page()
}
