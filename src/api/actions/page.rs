//! The HTML of the action pages: templates, headers and the finished pages.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use base64::Engine as _;
use minijinja::{AutoEscape, Environment, context};
use sha2::{Digest, Sha256};

use crate::domain::states::{LogAction, ModerationAction, Via};
use crate::entity::moderation_log;
use crate::state::AppState;

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

/// The headers every HTML page of the service carries: its content security policy and referrer
/// policy; never cached, never sniffed.
pub(crate) fn page_headers(response: &mut HttpResponse, csp: HeaderValue, referrer: &'static str) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(referrer));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

pub(super) fn page(status: StatusCode, template: &str, ctx: minijinja::Value) -> HttpResponse {
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
    page_headers(
        &mut response,
        CONTENT_SECURITY_POLICY.clone(),
        "no-referrer",
    );
    response
}

pub(super) fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(status, "message.html", context! { title, message => text })
}

pub(super) fn label(action: ModerationAction) -> (&'static str, &'static str, &'static str) {
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

pub(super) fn comment_gone() -> HttpResponse {
    message(
        StatusCode::NOT_FOUND,
        "Kommentar nicht gefunden",
        "Diesen Kommentar gibt es nicht mehr.",
    )
}

/// 409: the link's review round is over, or the link was used; says who decided what and when.
pub(super) fn already_decided(
    state: &AppState,
    last: Option<&moderation_log::Model>,
) -> HttpResponse {
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
pub(super) fn deleted_by_author() -> HttpResponse {
    message(
        StatusCode::CONFLICT,
        "Vom Autor gelöscht",
        "Der Autor hat diesen Kommentar gelöscht. Er kann nicht wiederhergestellt werden.",
    )
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
