//! The pages behind the action links in the community team's emails.
//!
//! `GET /moderation/actions/{token}` only shows the comment, a "Kürzel" field and a button (mail
//! scanners follow links); the page's `POST` carries the decision out, once, logged with
//! `via: "email"` and `moderator: "email:<Kürzel>"` (the mailbox address without one). A link
//! acts only in the review round of its email: after any later decision it shows who decided what
//! and when (409).
//!
//! The token is in the URL, so every page is sent with `Referrer-Policy: no-referrer` (the
//! article link would otherwise carry it to the website), `Cache-Control: no-store`, and a
//! `Content-Security-Policy` that allows no script at all.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use base64::Engine as _;
use minijinja::{AutoEscape, Environment, context};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::api::openapi::ErrorBody;
use crate::domain::action_link::ActionClaims;
use crate::domain::statement::{
    DEFAULT_EXPLANATION, Statement, StatementInput, category_label, ground_label,
};
use crate::domain::states::{Category, Ground, LogAction, ModerationAction, Via};
use crate::entity::{comment, moderation_log};
use crate::error::ApiError;
use crate::service::moderation::{self as decisions, Decided, Decision, Link, LinkCheck};
use crate::state::AppState;
use crate::store::flags::suggested_category;
use crate::store::{articles, flags};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/moderation/actions/{token}")
            .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES))
            .route(web::get().to(confirm_page))
            .route(web::post().to(carry_out)),
    );
}

/// The largest confirmation form the page's `POST` reads (the page's own form is far smaller).
const MAX_FORM_BYTES: usize = 16 * 1024;

const LAYOUT: &str = r#"<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}
blockquote{white-space:pre-wrap;border-left:4px solid #c00;margin:1rem 0;padding:.5rem 1rem;background:#f7f7f7}
button{font-size:1.1rem;padding:.6rem 1.4rem;background:#c00;color:#fff;border:0;border-radius:4px;cursor:pointer}
label{display:block;font-weight:600;margin:1.2rem 0 .3rem}
input,select,textarea{font:inherit;font-size:1.1rem;padding:.4rem .6rem;border:1px solid #888;border-radius:4px}
input{width:9rem}
input.wide,select,textarea{width:100%;box-sizing:border-box}
fieldset{border:1px solid #ccc;border-radius:4px;margin:1.2rem 0;padding:0 1rem 1rem}
legend{font-weight:600;padding:0 .3rem}
.hint{display:block;margin:.3rem 0 1rem}
.problem{color:#a00;font-weight:600}
.meta,.hint{color:#666;font-size:.9rem}</style></head>
<body><h1>{{ title }}</h1>{% block content %}{% endblock %}</body></html>"#;

const CONFIRM: &str = r#"{% extends "layout.html" %}{% block content %}
<p>Artikel: <a href="{{ article_url }}" rel="noreferrer noopener">{{ article_title }}</a></p>
<p class="meta">Kommentar {{ comment_id }} von {{ author_name }} ({{ author_id }}), Status: {{ status }}, offene Meldungen: {{ flag_count }}</p>
<blockquote>{{ body }}</blockquote>
<form method="post">
{% if problem %}<p class="problem" role="alert">{{ problem }}</p>{% endif %}
{% if statement %}
<fieldset><legend>Begründung für die Verfasserin oder den Verfasser</legend>
<label for="ground">Grundlage</label>
<select id="ground" name="ground">
{% for g in grounds %}<option value="{{ g.value }}"{% if g.value == ground %} selected{% endif %}>{{ g.label }}</option>
{% endfor %}</select>
<label for="category">Art des Inhalts</label>
<select id="category" name="category">
{% for c in categories %}<option value="{{ c.value }}"{% if c.value == category %} selected{% endif %}>{{ c.label }}</option>
{% endfor %}</select>
<label for="explanation">Erklärung (wird der Verfasserin oder dem Verfasser gezeigt)</label>
<textarea id="explanation" name="explanation" rows="3" maxlength="2000">{{ explanation }}</textarea>
<label for="legal_reference">Rechtsgrundlage (nur bei rechtswidrigem Inhalt, z. B. „§ 111 StGB“)</label>
<input class="wide" id="legal_reference" name="legal_reference" value="{{ legal_reference }}" maxlength="200" autocomplete="off">
</fieldset>
{% endif %}
<label for="kuerzel">Ihr Kürzel</label>
<input id="kuerzel" name="kuerzel" value="{{ kuerzel }}" maxlength="16" autocomplete="off" spellcheck="false" aria-describedby="kuerzel-hint">
<span id="kuerzel-hint" class="hint">1 bis 16 Buchstaben, zum Beispiel „AB“. Ohne Kürzel wird {{ mailbox }} im Moderationsprotokoll vermerkt.</span>
<button type="submit">{{ button }}</button></form>
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

/// The pages' policy: no script, no frames, forms only to this service, and only the layout's
/// own style sheet (by its hash).
static CONTENT_SECURITY_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let style = LAYOUT
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(css, _)| css);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    let policy = format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; base-uri 'none'; \
         frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

fn page(status: StatusCode, template: &str, ctx: minijinja::Value) -> HttpResponse {
    let mut response = match PAGES.get_template(template).and_then(|t| t.render(ctx)) {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header(("X-Robots-Tag", "noindex"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "rendering an action page failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Interner Fehler")
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        CONTENT_SECURITY_POLICY.clone(),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(status, "message.html", context! { title, message => text })
}

fn label(action: ModerationAction) -> (&'static str, &'static str, &'static str) {
    let done = done(action.into());
    match action {
        ModerationAction::Approve => ("Kommentar freigeben?", "Freigeben", done),
        ModerationAction::Hide => ("Kommentar ausblenden?", "Ausblenden", done),
        ModerationAction::Delete => ("Kommentar löschen?", "Löschen", done),
    }
}

/// "Der Kommentar wurde …".
fn done(action: LogAction) -> &'static str {
    match action {
        LogAction::Approve => "freigegeben",
        LogAction::Hide => "ausgeblendet",
        LogAction::Delete => "gelöscht",
        _ => "bearbeitet",
    }
}

/// Checks a link without acting. A link that would act gives its claims and comment; any other
/// outcome is a finished page.
async fn check(
    state: &AppState,
    token: &str,
) -> Result<Result<(ActionClaims, comment::Model), HttpResponse>, ApiError> {
    Ok(match decisions::check_link(state, token).await? {
        LinkCheck::Valid(claims, comment) => Ok((claims, comment)),
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
        LinkCheck::CommentGone => Err(comment_gone()),
        LinkCheck::AlreadyDecided(last) => Err(already_decided(state, last.as_ref())),
        LinkCheck::DeletedByAuthor(_) => Err(deleted_by_author()),
    })
}

fn comment_gone() -> HttpResponse {
    message(
        StatusCode::NOT_FOUND,
        "Kommentar nicht gefunden",
        "Diesen Kommentar gibt es nicht mehr.",
    )
}

/// 409: the link's review round is over, or the link was used; says who decided what and when.
fn already_decided(state: &AppState, last: Option<&moderation_log::Model>) -> HttpResponse {
    let text = match last {
        Some(entry) => {
            let at = entry
                .at
                .with_timezone(&state.settings().lifecycle.newsroom_timezone)
                .format("%d.%m.%Y um %H:%M Uhr");
            let via = match entry.via {
                Via::Api => "über die API",
                Via::Email => "über einen E-Mail-Link",
                Via::Console => "in der Konsole",
            };
            format!(
                "Über diesen Kommentar wurde bereits entschieden: {} hat ihn am {at} {via} {}. \
                 Dieser Link gilt nicht mehr.",
                entry.moderator,
                done(entry.action),
            )
        }
        None => "Über diesen Kommentar wurde bereits entschieden. Dieser Link gilt nicht mehr."
            .to_string(),
    };
    message(StatusCode::CONFLICT, "Bereits entschieden", &text)
}

/// 409: the author deleted the comment; approving or hiding it would restore it.
fn deleted_by_author() -> HttpResponse {
    message(
        StatusCode::CONFLICT,
        "Vom Autor gelöscht",
        "Der Autor hat diesen Kommentar gelöscht. Er kann nicht wiederhergestellt werden.",
    )
}

/// The confirmation page of an emailed action link
///
/// Shows the comment, a "Kürzel" field and a button; changes nothing (mail scanners follow
/// links). No bearer token: the signed link is the credential.
#[utoipa::path(
    get,
    path = "/moderation/actions/{token}",
    tag = "email actions",
    params(("token" = String, Path, description = "The signed token from the email's action link.")),
    responses(
        (status = 200, description = "The confirmation page with the comment, a Kürzel field and a button that POSTs the decision.", content_type = "text/html", body = String),
        RefusedLink,
    ),
)]
async fn confirm_page(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match check(&state, &path).await? {
        Ok(valid) => confirm_form(&state, valid, None, FormValues::default()).await,
        Err(page) => Ok(page),
    }
}

/// The mailbox the community team's emails go to: who an email decision without a Kürzel names.
fn mailbox(state: &AppState) -> String {
    state
        .settings()
        .mail
        .to
        .first()
        .cloned()
        .unwrap_or_else(|| Via::Email.to_string())
}

/// The category a decision on this comment most likely names (see `suggested_category`).
async fn likely_category(state: &AppState, comment: &comment::Model) -> Result<Category, ApiError> {
    let summary = flags::summaries(state.db(), &[comment.id])
        .await?
        .remove(&comment.id)
        .unwrap_or_default();
    Ok(suggested_category(
        &summary,
        &crate::views::dto::detections_of(comment),
    ))
}

/// The choices of a statement's `ground` and `category`, each with its German label.
pub(crate) fn statement_choices() -> (Vec<minijinja::Value>, Vec<minijinja::Value>) {
    let grounds = Ground::ALL
        .iter()
        .map(|g| context! { value => g.as_str(), label => ground_label(*g) })
        .collect();
    let categories = Category::ALL
        .iter()
        .map(|c| context! { value => c.as_str(), label => category_label(*c) })
        .collect();
    (grounds, categories)
}

/// What the confirmation page's form holds (what the moderator entered, or the defaults).
#[derive(Default)]
struct FormValues {
    kuerzel: String,
    ground: Option<String>,
    category: Option<String>,
    explanation: Option<String>,
    legal_reference: String,
}

/// The confirmation page, with a problem of the previous attempt if there was one.
async fn confirm_form(
    state: &AppState,
    (claims, comment): (ActionClaims, comment::Model),
    problem: Option<&str>,
    values: FormValues,
) -> Result<HttpResponse, ApiError> {
    let article = articles::find(state.db(), &comment.article_id).await?;
    let (title, button, _) = label(claims.action);
    let statement = claims.action != ModerationAction::Approve;
    let category = match values.category {
        Some(c) => c,
        None if statement => likely_category(state, &comment).await?.to_string(),
        None => String::new(),
    };
    let explanation = values
        .explanation
        .unwrap_or_else(|| DEFAULT_EXPLANATION.to_string());
    let (grounds, categories) = statement_choices();
    let status = match problem {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    Ok(page(
        status,
        "confirm.html",
        context! {
            title,
            button,
            problem,
            statement,
            grounds,
            categories,
            ground => values.ground.unwrap_or_else(|| Ground::Terms.to_string()),
            category,
            explanation,
            legal_reference => values.legal_reference,
            kuerzel => values.kuerzel,
            mailbox => mailbox(state),
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

/// What the confirmation page posts.
#[derive(Deserialize)]
struct ConfirmForm {
    kuerzel: Option<String>,
    ground: Option<String>,
    category: Option<String>,
    explanation: Option<String>,
    legal_reference: Option<String>,
}

impl ConfirmForm {
    /// None of the page's fields was sent.
    fn is_empty(&self) -> bool {
        self.kuerzel.is_none()
            && self.ground.is_none()
            && self.category.is_none()
            && self.explanation.is_none()
            && self.legal_reference.is_none()
    }
}

/// 400: the `POST` did not carry the page's form.
fn bad_form(why: &str) -> HttpResponse {
    tracing::info!(reason = %why, "an action page was posted something other than its form");
    message(
        StatusCode::BAD_REQUEST,
        "Ungültige Anfrage",
        "Diese Anfrage enthält nicht das Formular der Bestätigungsseite; es wurde nichts \
         geändert. Bitte öffnen Sie den Link aus der E-Mail und bestätigen Sie dort.",
    )
}

/// The moderator an email decision names: `email:<Kürzel>`, or the mailbox address without one.
/// `Err` says what is wrong with the Kürzel.
fn email_moderator(state: &AppState, kuerzel: &str) -> Result<String, &'static str> {
    let kuerzel = kuerzel.trim();
    if kuerzel.is_empty() {
        return Ok(mailbox(state));
    }
    let letters = kuerzel.chars().count();
    if letters > 16 || !kuerzel.chars().all(char::is_alphabetic) {
        return Err(
            "Das Kürzel besteht aus 1 bis 16 Buchstaben, ohne Ziffern, Leer- oder Satzzeichen.",
        );
    }
    Ok(format!("email:{kuerzel}"))
}

/// Carry out the decision of an emailed action link
///
/// Once per link, and only in the review round of its email; the decision resolves the comment's
/// flags and is audit-logged with `via: "email"` and `moderator: "email:<Kürzel>"` (the mailbox
/// address without a Kürzel).
#[utoipa::path(
    post,
    path = "/moderation/actions/{token}",
    tag = "email actions",
    params(("token" = String, Path, description = "The signed token from the email's action link.")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`kuerzel`: the moderator's initials, 1 to 16 letters; optional. For `hide` and `delete` the statement of reasons: `ground` (`terms` or `illegal`), `category`, `explanation` and, for `illegal`, `legal_reference`."),
    responses(
        (status = 200, description = "Done: a page saying what happened to the comment.", content_type = "text/html", body = String),
        (status = 422, description = "The Kürzel is not 1 to 16 letters, or the statement of reasons is incomplete: the confirmation page again, saying so (HTML page).", content_type = "text/html", body = String),
        RefusedLink,
    ),
)]
async fn carry_out(
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: Result<web::Form<ConfirmForm>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let (claims, comment) = match check(&state, &token).await? {
        Ok(valid) => valid,
        Err(page) => return Ok(page),
    };
    // The page's form always sends its fields: anything else (another content type, a body
    // over the limit, an empty one) is not a decision and acts on nothing.
    let form = match form.map(web::Form::into_inner) {
        Ok(form) if !form.is_empty() => form,
        Ok(_) => return Ok(bad_form("the form is empty")),
        Err(e) => return Ok(bad_form(&e.to_string())),
    };
    let values = FormValues {
        kuerzel: form.kuerzel.clone().unwrap_or_default(),
        ground: form.ground.clone(),
        category: form.category.clone(),
        explanation: form.explanation.clone(),
        legal_reference: form.legal_reference.clone().unwrap_or_default(),
    };
    let moderator = match email_moderator(&state, &values.kuerzel) {
        Ok(m) => m,
        Err(problem) => {
            return confirm_form(&state, (claims, comment), Some(problem), values).await;
        }
    };
    // A field the form did not send takes the page's default (what a moderator who only
    // presses the button accepts).
    let default_category = match &form.category {
        Some(_) => String::new(),
        None => likely_category(&state, &comment).await?.to_string(),
    };
    let input = StatementInput {
        ground: Some(form.ground.as_deref().unwrap_or(Ground::Terms.as_str())),
        category: Some(form.category.as_deref().unwrap_or(&default_category)),
        explanation: Some(form.explanation.as_deref().unwrap_or(DEFAULT_EXPLANATION)),
        legal_reference: form.legal_reference.as_deref(),
    };
    let statement = match Statement::parse(claims.action, input) {
        Ok(statement) => statement,
        Err(fields) => {
            let problem = statement_problem(&fields);
            return confirm_form(&state, (claims, comment), Some(&problem), values).await;
        }
    };
    let decision = Decision {
        comment_id: claims.comment_id,
        action: claims.action,
        moderator: &moderator,
        note: None,
        via: Via::Email,
        statement,
        link: Some(Link {
            token: &token,
            round: claims.round,
        }),
    };
    Ok(decided(
        &state,
        claims.action,
        decisions::decide(&state, decision).await?,
    ))
}

/// What is wrong with the statement the page posted, in German.
pub(crate) fn statement_problem(fields: &std::collections::BTreeMap<String, String>) -> String {
    if fields.contains_key("legal_reference") && fields.len() == 1 {
        return "Bei rechtswidrigem Inhalt bitte die Rechtsgrundlage angeben (z. B. „§ 111 StGB“)."
            .to_string();
    }
    let names: Vec<&str> = fields
        .keys()
        .map(|f| match f.as_str() {
            "ground" => "Grundlage",
            "category" => "Art des Inhalts",
            "explanation" => "Erklärung",
            "legal_reference" => "Rechtsgrundlage",
            _ => "Formular",
        })
        .collect();
    format!("Bitte prüfen: {}.", names.join(", "))
}

/// The page that says how a decision ended.
fn decided(state: &AppState, action: ModerationAction, outcome: Decided) -> HttpResponse {
    match outcome {
        Decided::Done(comment) => message(
            StatusCode::OK,
            "Erledigt",
            &format!("Der Kommentar {} wurde {}.", comment.id, label(action).2),
        ),
        Decided::CommentGone => comment_gone(),
        Decided::AlreadyDecided(last) => already_decided(state, last.as_ref()),
        Decided::DeletedByAuthor(_) => deleted_by_author(),
    }
}

/// The answers of both methods when the link does not act (for the OpenAPI document).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only documentation
enum RefusedLink {
    /// The link is invalid, or the `POST` did not carry the page's form (another content type,
    /// an empty body, one over 16 KiB); nothing is changed (HTML page).
    #[response(status = 400, content_type = "text/html")]
    Invalid(String),
    /// The comment no longer exists (HTML page).
    #[response(status = 404, content_type = "text/html")]
    CommentGone(String),
    /// Already decided: the link was used, or a decision since its email ended its review round
    /// (the page says who decided what and when); or the author deleted the comment and the link
    /// would restore it (HTML page).
    #[response(status = 409, content_type = "text/html")]
    AlreadyDecided(String),
    /// The link has expired (`ACTION_LINK_DAYS`) (HTML page).
    #[response(status = 410, content_type = "text/html")]
    Expired(String),
    /// `internal`.
    #[response(status = 500)]
    Internal(ErrorBody),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_style_the_pages_carry() {
        let html = PAGES
            .get_template("message.html")
            .unwrap()
            .render(context! { title => "T", message => "M" })
            .unwrap();
        let style = html
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(css, _)| css)
            .expect("a style element");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
        let policy = CONTENT_SECURITY_POLICY.to_str().unwrap();
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert!(!policy.contains("script-src"), "no script at all: {policy}");
    }
}
