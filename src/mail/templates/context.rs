//! What the templates are given: [`NotificationContext`], every value prepared from a
//! [`NotificationView`] (labels, formatted times, plural forms, quoted text).

use super::*;
use crate::domain::comment::{is_bidi_control, is_line_separator};

/// Text written by readers as the mails show it: line and paragraph separators become newlines
/// (so the plain-text part quotes each line), bidirectional controls are dropped (they would
/// reorder what is shown, the service's own lines included).
fn neutral_text(text: &str) -> String {
    text.chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if is_line_separator(c) { '\n' } else { c })
        .collect()
}

/// A one-line value (a name, an id, a title) as the mails show it: as [`neutral_text`], with
/// separators as spaces.
fn neutral_line(text: &str) -> String {
    text.chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if is_line_separator(c) { ' ' } else { c })
        .collect()
}

/// Text written by readers, as the plain-text part shows it: every line prefixed `> `, so that
/// nothing a reader writes can pass for the service's own lines (which never start with `>`).
fn quoted(text: &str) -> String {
    let lines: Vec<String> = text
        .trim_end()
        .lines()
        .map(|line| {
            let line = line.trim_end();
            if line.is_empty() {
                ">".to_owned()
            } else {
                format!("> {line}")
            }
        })
        .collect();
    if lines.is_empty() {
        ">".to_owned()
    } else {
        lines.join("\n")
    }
}

/// "1 Meldung", "3 Meldungen".
fn flags_label(n: u32) -> String {
    if n == 1 {
        "1 Meldung".to_owned()
    } else {
        format!("{n} Meldungen")
    }
}

/// Renders `(subject, text, html)` for a notification, with local times in `tz`
/// (`NEWSROOM_TIMEZONE`).
/// Only `http(s)` URLs become links in the HTML part; anything else is shown as text.
fn href(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.to_owned())
}

#[derive(Serialize)]
struct ReasonCtx {
    code: &'static str,
    label: String,
    count: u32,
}

#[derive(Serialize)]
struct DetectionCtx {
    label: &'static str,
    /// The list entry that matched, or the link's host.
    matched: Option<String>,
}

#[derive(Serialize)]
struct ActionCtx {
    label: &'static str,
    /// "Freigeben:" padded so that the URLs line up in the text part.
    label_padded: String,
    description: &'static str,
    url: String,
    href: Option<String>,
    color: &'static str,
}

#[derive(Serialize)]
pub(super) struct NotificationContext {
    pub(super) subject: String,
    pending_review: bool,
    held: bool,
    reminder: bool,
    /// "29.11.2026, 15:49 Uhr (Wiener Zeit)" for an urgent mail.
    due_local: Option<String>,
    detections: Vec<DetectionCtx>,
    /// "Verdächtiges Wort, Link" for the subject.
    detections_label: String,
    article_title: String,
    subject_title: String,
    article_url: String,
    article_href: Option<String>,
    comment_id: String,
    comment_body: String,
    /// The comment for the text part, quoted.
    comment_quoted: String,
    author_name: String,
    author_id: String,
    created_local: String,
    created_utc: String,
    created_iso: String,
    tz_label: String,
    flag_count: u32,
    flags_label: String,
    reasons: Vec<ReasonCtx>,
    notes: Vec<String>,
    /// The notes for the text part, quoted.
    notes_quoted: Vec<String>,
    actions: Vec<ActionCtx>,
}

impl NotificationContext {
    pub(super) fn new(v: &NotificationView, tz: Tz) -> Self {
        let c = &v.content;
        let local = c.comment_created_at.with_timezone(&tz);
        let tz_label = if tz == chrono_tz::Europe::Vienna {
            "Wiener Zeit".to_owned()
        } else {
            tz.name().to_owned()
        };
        let notes: Vec<String> = c
            .notes
            .iter()
            .map(|n| neutral_text(n).trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        let article_title = neutral_line(&c.article_title);
        let comment_body = neutral_text(&c.comment_body);
        let title_line = one_line(&article_title);
        let subject_title = if title_line.is_empty() {
            one_line(&c.article_url)
        } else {
            title_line
        };
        let actions = [
            (
                "Freigeben",
                "Der Kommentar bleibt sichtbar bzw. wird wieder angezeigt; die Meldungen gelten als erledigt.",
                &v.approve_url,
                "#2e7d32",
            ),
            (
                "Ausblenden",
                "Der Kommentar wird für Leserinnen und Leser ausgeblendet.",
                &v.hide_url,
                "#ef6c00",
            ),
            (
                "Löschen",
                "Der Kommentar wird gelöscht.",
                &v.delete_url,
                "#c62828",
            ),
        ];
        let label_width = actions
            .iter()
            .map(|(label, ..)| label.chars().count() + 1)
            .max()
            .unwrap_or(0);
        let actions = actions
            .into_iter()
            .map(|(label, description, url, color)| {
                let with_colon = format!("{label}:");
                let pad = label_width.saturating_sub(with_colon.chars().count());
                ActionCtx {
                    label,
                    label_padded: format!("{with_colon}{}", " ".repeat(pad)),
                    description,
                    url: url.clone(),
                    href: href(url),
                    color,
                }
            })
            .collect();
        NotificationContext {
            subject: String::new(),
            pending_review: v.kind == NotificationKind::PendingReview,
            held: v.kind == NotificationKind::Held,
            reminder: v.kind == NotificationKind::Reminder,
            due_local: c.due_at.map(|due| {
                format!(
                    "{} ({tz_label})",
                    due.with_timezone(&tz).format("%d.%m.%Y, %H:%M Uhr")
                )
            }),
            detections: c
                .detections
                .iter()
                .map(|d| DetectionCtx {
                    label: hold_reason_label(d.rule),
                    matched: d.matched.clone(),
                })
                .collect(),
            detections_label: {
                let mut labels: Vec<&str> = Vec::new();
                for d in &c.detections {
                    let label = hold_reason_label(d.rule);
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                }
                labels.join(", ")
            },
            article_title,
            subject_title,
            article_url: c.article_url.clone(),
            article_href: href(&c.article_url),
            comment_id: v.comment_id.clone(),
            comment_quoted: quoted(&comment_body),
            comment_body,
            author_name: neutral_line(&c.author_name),
            author_id: neutral_line(&c.author_id),
            created_local: local.format("%d.%m.%Y, %H:%M Uhr").to_string(),
            created_utc: c
                .comment_created_at
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            created_iso: c
                .comment_created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tz_label,
            flag_count: c.flag_count,
            flags_label: flags_label(c.flag_count),
            reasons: c
                .reasons
                .iter()
                .map(|(reason, count)| ReasonCtx {
                    code: reason.as_str(),
                    label: reason_label(*reason).to_owned(),
                    count: *count,
                })
                .collect(),
            notes_quoted: notes.iter().map(|n| quoted(n)).collect(),
            notes,
            actions,
        }
    }
}
