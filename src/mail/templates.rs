//! The notification email to the community team, rendered with minijinja.
//!
//! The templates live in `src/mail/templates/` and are embedded at compile time.
//! `.html` templates are auto-escaped (every dynamic value is HTML-escaped);
//! `.txt` templates are not. Everything the templates need is prepared here as
//! plain values (labels, formatted times, plural forms), so the templates hold
//! layout and wording only.

mod context;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use super::MailError;
use context::NotificationContext;

const SUBJECT_TEMPLATE: &str = "subject.txt";
const TEXT_TEMPLATE: &str = "notification.txt";
const HTML_TEMPLATE: &str = "notification.html";

pub use crate::domain::states::NotificationKind;
use crate::domain::states::{FlagReason, HoldReason};
use crate::moderation::Detection;

/// What a notification shows of the comment and its flags, as they were when it was queued
/// (stored with the notification). Strings are shown as given; the time is rendered here, in the
/// newsroom's time zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationContent {
    pub article_title: String,
    pub article_url: String,
    pub comment_body: String,
    pub author_name: String,
    pub author_id: String,
    /// Rendered in Europe/Vienna local time ("26.04.2019, 10:51 Uhr") and in UTC.
    pub comment_created_at: DateTime<Utc>,
    /// Unresolved flags on the comment.
    pub flag_count: u32,
    /// Each reason and how many flags gave it, in display order.
    pub reasons: Vec<(FlagReason, u32)>,
    /// Reporters' notes, in display order.
    pub notes: Vec<String>,
    /// What the content rules found (a held comment), with the matched words.
    #[serde(default)]
    pub detections: Vec<Detection>,
    /// The deadline of an undecided notice of illegal content: the mail is urgent.
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}

/// Everything one notification shows: its content and the action links.
#[derive(Clone, Debug)]
pub struct NotificationView {
    pub kind: NotificationKind,
    pub comment_id: String,
    pub content: NotificationContent,
    pub approve_url: String,
    pub hide_url: String,
    pub delete_url: String,
}

/// German label of a flag reason.
pub fn reason_label(reason: FlagReason) -> &'static str {
    match reason {
        FlagReason::Spam => "Spam",
        FlagReason::Abuse => "Beleidigung/Missbrauch",
        FlagReason::OffTopic => "Themenfremd",
        FlagReason::Illegal => "Rechtswidrig",
        FlagReason::Misinformation => "Falschinformation",
        FlagReason::Other => "Sonstiges",
    }
}

/// German label of a content rule's detection.
pub fn hold_reason_label(reason: HoldReason) -> &'static str {
    match reason {
        HoldReason::SuspectWord => "Verdächtiges Wort",
        HoldReason::Links => "Link",
        HoldReason::PremodAuthor => "Verfasser unter Vorab-Prüfung",
        HoldReason::NewAuthor => "Neuer Verfasser",
        HoldReason::History => "Auffällige Vorgeschichte (viele entfernte Kommentare)",
    }
}

pub fn render_notification_in(
    v: &NotificationView,
    tz: Tz,
) -> Result<(String, String, String), MailError> {
    let mut ctx = NotificationContext::new(v, tz);
    let subject = one_line(&render(SUBJECT_TEMPLATE, &ctx)?);
    ctx.subject = subject.clone();
    let text = render(TEXT_TEMPLATE, &ctx)?;
    let html = render(HTML_TEMPLATE, &ctx)?;
    Ok((subject, text, html))
}

fn render(name: &str, ctx: &NotificationContext) -> Result<String, MailError> {
    let template = ENV
        .get_template(name)
        .map_err(|e| template_error(name, &e))?;
    template
        .render(Value::from_serialize(ctx))
        .map_err(|e| template_error(name, &e))
}

fn template_error(name: &str, e: &minijinja::Error) -> MailError {
    MailError::Template {
        template: name.to_owned(),
        reason: e.to_string(),
    }
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // Auto-escaping follows the template name: `.html` escapes, `.txt` does not.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(readable_html_formatter);
    for (name, source) in [
        (SUBJECT_TEMPLATE, include_str!("templates/subject.txt")),
        (TEXT_TEMPLATE, include_str!("templates/notification.txt")),
        (HTML_TEMPLATE, include_str!("templates/notification.html")),
    ] {
        env.add_template(name, source)
            .expect("embedded mail templates are valid (checked by the unit tests)");
    }
    env
});

/// minijinja's own HTML escaping also turns `/` into `&#x2f;`, which is valid but makes every
/// URL unreadable in the source and in tests. This formatter escapes the five characters that
/// matter for text and quoted attributes instead (used by the mail and the action pages).
pub(crate) fn readable_html_formatter(
    out: &mut minijinja::Output<'_>,
    state: &minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if state.auto_escape() == AutoEscape::Html
        && !value.is_safe()
        && let Some(s) = value.as_str()
    {
        out.write_str(&escape_html(s))?;
        return Ok(());
    }
    minijinja::escape_formatter(out, state, value)
}

/// Escapes `& < > " '` for HTML text and quoted attribute values.
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Collapses all whitespace (including line breaks) to single spaces.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
