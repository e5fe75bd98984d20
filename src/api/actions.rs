//! The pages behind the action links in the community team's emails.
//!
//! `GET /moderation/actions/{token}` only shows the comment and a button (mail scanners follow
//! links); the page's `POST` carries the decision out, once, logged with `via: "email"`.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{AutoEscape, Environment, context};

use crate::api::openapi::ErrorBody;
use crate::domain::action_link::ActionClaims;
use crate::domain::states::{ModerationAction, Via};
use crate::error::ApiError;
use crate::service::moderation::{self as decisions, Decided, Decision, LinkCheck};
use crate::state::AppState;
use crate::store::{articles, comments};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/moderation/actions/{token}")
            .route(web::get().to(confirm_page))
            .route(web::post().to(carry_out)),
    );
}

const LAYOUT: &str = r#"<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
blockquote{white-space:pre-wrap;border-left:4px solid #c00;margin:1rem 0;padding:.5rem 1rem;background:#f7f7f7}
button{font-size:1.1rem;padding:.6rem 1.4rem;background:#c00;color:#fff;border:0;border-radius:4px;cursor:pointer}
.meta{color:#666;font-size:.9rem}</style></head>
<body><h1>{{ title }}</h1>{% block content %}{% endblock %}</body></html>"#;

const CONFIRM: &str = r#"{% extends "layout.html" %}{% block content %}
<p>Artikel: <a href="{{ article_url }}">{{ article_title }}</a></p>
<p class="meta">Kommentar {{ comment_id }} von {{ author_name }} ({{ author_id }}), Status: {{ status }}, offene Meldungen: {{ flag_count }}</p>
<blockquote>{{ body }}</blockquote>
<form method="post"><button type="submit">{{ button }}</button></form>
<p class="meta">Der Link gilt einmal und bis {{ expires_at }}.</p>
{% endblock %}"#;

const MESSAGE: &str =
    r#"{% extends "layout.html" %}{% block content %}<p>{{ message }}</p>{% endblock %}"#;

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(crate::mail::readable_html_formatter);
    for (name, source) in [
        ("layout.html", LAYOUT),
        ("confirm.html", CONFIRM),
        ("message.html", MESSAGE),
    ] {
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "action page template does not parse");
        }
    }
    env
});

fn page(status: StatusCode, template: &str, ctx: minijinja::Value) -> HttpResponse {
    match PAGES.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("X-Robots-Tag", "noindex"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "rendering an action page failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Interner Fehler")
        }
    }
}

fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(status, "message.html", context! { title, message => text })
}

fn label(action: ModerationAction) -> (&'static str, &'static str, &'static str) {
    match action {
        ModerationAction::Approve => ("Kommentar freigeben?", "Freigeben", "freigegeben"),
        ModerationAction::Hide => ("Kommentar ausblenden?", "Ausblenden", "ausgeblendet"),
        ModerationAction::Delete => ("Kommentar löschen?", "Löschen", "gelöscht"),
    }
}

/// Checks a token: authentic, not expired, not used. Errors are finished pages.
async fn check(
    state: &AppState,
    token: &str,
) -> Result<Result<ActionClaims, HttpResponse>, ApiError> {
    Ok(match decisions::check_link(state, token).await? {
        LinkCheck::Valid(claims) => Ok(claims),
        LinkCheck::Expired => Err(message(
            StatusCode::GONE,
            "Link abgelaufen",
            "Dieser Link ist abgelaufen. Bitte entscheiden Sie über die Moderations-Warteschlange.",
        )),
        LinkCheck::Invalid => Err(message(
            StatusCode::BAD_REQUEST,
            "Ungültiger Link",
            "Dieser Link ist ungültig. Bitte öffnen Sie ihn genau so, wie er in der E-Mail steht.",
        )),
        LinkCheck::Used => Err(already_used()),
    })
}

fn comment_gone() -> HttpResponse {
    message(
        StatusCode::NOT_FOUND,
        "Kommentar nicht gefunden",
        "Diesen Kommentar gibt es nicht mehr.",
    )
}

fn already_used() -> HttpResponse {
    message(
        StatusCode::CONFLICT,
        "Link bereits verwendet",
        "Dieser Link wurde bereits verwendet; die Entscheidung ist im Moderationsprotokoll vermerkt.",
    )
}

/// The confirmation page of an emailed action link
///
/// Shows the comment and a button; changes nothing (mail scanners follow links). No bearer
/// token: the signed link is the credential.
#[utoipa::path(
    get,
    path = "/moderation/actions/{token}",
    tag = "email actions",
    params(("token" = String, Path, description = "The signed token from the email's action link.")),
    responses(
        (status = 200, description = "The confirmation page with the comment and a button that POSTs the decision.", content_type = "text/html", body = String),
        (status = 400, description = "The link is invalid (HTML page).", content_type = "text/html", body = String),
        (status = 404, description = "The comment no longer exists (HTML page).", content_type = "text/html", body = String),
        (status = 409, description = "The link was already used (HTML page).", content_type = "text/html", body = String),
        (status = 410, description = "The link has expired (`ACTION_LINK_DAYS`) (HTML page).", content_type = "text/html", body = String),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
)]
async fn confirm_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let claims = match check(&state, &path).await? {
        Ok(c) => c,
        Err(page) => return Ok(page),
    };
    let Some(comment) = comments::find(&state.db, claims.comment_id).await? else {
        return Ok(comment_gone());
    };
    let article = articles::find(&state.db, &comment.article_id).await?;
    let (title, button, _) = label(claims.action);
    Ok(page(
        StatusCode::OK,
        "confirm.html",
        context! {
            title,
            button,
            article_title => article.as_ref().map(|a| a.title.clone()).unwrap_or_default(),
            article_url => article.as_ref().map(|a| a.url.clone()).unwrap_or_default(),
            comment_id => comment.id,
            author_name => comment.author_name,
            author_id => comment.author_id,
            status => comment.status,
            flag_count => comment.flag_count,
            body => comment.body,
            expires_at => crate::views::dto::format_ts(claims.expires_at),
        },
    ))
}

/// Carry out the decision of an emailed action link
///
/// Once per link; the decision resolves the comment's flags and is audit-logged with
/// `via: "email"`.
#[utoipa::path(
    post,
    path = "/moderation/actions/{token}",
    tag = "email actions",
    params(("token" = String, Path, description = "The signed token from the email's action link.")),
    responses(
        (status = 200, description = "Done: a page saying what happened to the comment.", content_type = "text/html", body = String),
        (status = 400, description = "The link is invalid (HTML page).", content_type = "text/html", body = String),
        (status = 404, description = "The comment no longer exists (HTML page).", content_type = "text/html", body = String),
        (status = 409, description = "The link was already used (HTML page).", content_type = "text/html", body = String),
        (status = 410, description = "The link has expired (`ACTION_LINK_DAYS`) (HTML page).", content_type = "text/html", body = String),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
)]
async fn carry_out(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let claims = match check(&state, &token).await? {
        Ok(c) => c,
        Err(page) => return Ok(page),
    };
    let moderator = state
        .settings
        .mail
        .to
        .first()
        .cloned()
        .unwrap_or_else(|| Via::Email.to_string());
    let decision = Decision {
        comment_id: claims.comment_id,
        action: claims.action,
        moderator: &moderator,
        note: None,
        via: Via::Email,
        link: Some(&token),
    };
    Ok(match decisions::decide(&state, decision).await? {
        Decided::Done(comment) => {
            let (_, _, done) = label(claims.action);
            message(
                StatusCode::OK,
                "Erledigt",
                &format!("Der Kommentar {} wurde {done}.", comment.id),
            )
        }
        Decided::CommentGone => comment_gone(),
        Decided::LinkUsed => already_used(),
    })
}
