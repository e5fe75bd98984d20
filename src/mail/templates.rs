//! The notification email to the community team, rendered with minijinja.
//!
//! The templates live in `src/mail/templates/` and are embedded at compile time.
//! `.html` templates are auto-escaped (every dynamic value is HTML-escaped);
//! `.txt` templates are not. Everything the templates need is prepared here as
//! plain values (labels, formatted times, plural forms), so the templates hold
//! layout and wording only.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};

use super::MailError;

const SUBJECT_TEMPLATE: &str = "subject.txt";
const TEXT_TEMPLATE: &str = "notification.txt";
const HTML_TEMPLATE: &str = "notification.html";

use crate::domain::comment::{is_bidi_control, is_line_separator};
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
        HoldReason::PremodArticle => "Artikel unter Vorab-Prüfung",
        HoldReason::PremodAuthor => "Verfasser unter Vorab-Prüfung",
        HoldReason::NewAuthor => "Neuer Verfasser",
        HoldReason::History => "Auffällige Vorgeschichte (viele entfernte Kommentare)",
    }
}

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
struct NotificationContext {
    subject: String,
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
    fn new(v: &NotificationView, tz: Tz) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn render_vienna(v: &NotificationView) -> Result<(String, String, String), MailError> {
        render_notification_in(v, chrono_tz::Europe::Vienna)
    }

    #[track_caller]
    fn assert_subject(v: &NotificationView, expected: &str) {
        let (subject, _, _) = render_vienna(v).unwrap();
        assert_eq!(subject, expected);
    }

    fn view(kind: NotificationKind, flag_count: u32) -> NotificationView {
        NotificationView {
            kind,
            comment_id: "42".to_owned(),
            content: NotificationContent {
                article_title: "Einladung an Putin".to_owned(),
                article_url: "https://www.krone.at/1912345?ref=a&b=c".to_owned(),
                comment_body: "Erste Zeile.\nZweite Zeile mit Umlauten: äöüß.".to_owned(),
                author_name: "Leser123".to_owned(),
                author_id: "u-123".to_owned(),
                comment_created_at: Utc.with_ymd_and_hms(2019, 4, 26, 8, 51, 0).unwrap(),
                flag_count,
                reasons: vec![(FlagReason::Abuse, 2), (FlagReason::Spam, 1)],
                notes: vec![
                    "Das ist eine Beleidigung.".to_owned(),
                    "Bitte löschen,\nsofort.".to_owned(),
                ],
                detections: Vec::new(),
                due_at: None,
            },
            approve_url: "https://comments.example/moderation/actions/tok-approve".to_owned(),
            hide_url: "https://comments.example/moderation/actions/tok-hide".to_owned(),
            delete_url: "https://comments.example/moderation/actions/tok-delete".to_owned(),
        }
    }

    #[test]
    fn the_subject_names_the_article_and_counts_one_flag_in_the_singular() {
        assert_subject(
            &view(NotificationKind::Flagged, 1),
            "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“",
        );
    }

    #[test]
    fn the_subject_counts_several_flags_in_the_plural() {
        assert_subject(
            &view(NotificationKind::PendingReview, 3),
            "Kommentar ausgeblendet zur Prüfung (3 Meldungen) – „Einladung an Putin“",
        );
        assert_subject(
            &view(NotificationKind::Flagged, 2),
            "Gemeldeter Kommentar (2 Meldungen) – „Einladung an Putin“",
        );
    }

    #[test]
    fn the_subject_is_one_line_even_if_the_title_is_not() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.article_title = "Einladung\r\nan   Putin\n".to_owned();
        assert_subject(
            &v,
            "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“",
        );
    }

    #[test]
    fn the_html_part_escapes_every_dynamic_value() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.comment_body = "<script>alert(1)</script>\n2. Zeile & \"mehr\"".to_owned();
        v.content.article_title = "<b>Titel</b>".to_owned();
        v.content.author_name = "<img src=x onerror=alert(1)>".to_owned();
        v.content.author_id = "u-<1>".to_owned();
        v.content.notes = vec!["<i>note</i>".to_owned(), "<a href='x'>Queue</a>".to_owned()];
        let (_, text, html) = render_vienna(&v).unwrap();

        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        for escaped in [
            "2. Zeile &amp; &quot;mehr&quot;",
            "&lt;b&gt;Titel&lt;/b&gt;",
            "&lt;img src=x onerror=alert(1)&gt;",
            "u-&lt;1&gt;",
            "&lt;i&gt;note&lt;/i&gt;",
            "&lt;a href=&#39;x&#39;&gt;Queue&lt;/a&gt;",
        ] {
            assert!(html.contains(escaped), "{escaped:?} not in {html}");
        }
        for raw in ["<script>", "<b>Titel", "<img", "<i>note", "<a href='x'"] {
            assert!(!html.contains(raw), "unescaped {raw:?} in HTML");
        }
        // The plain-text part shows the text as it is, quoted.
        assert!(text.contains("> <script>alert(1)</script>\n> 2. Zeile & \"mehr\"\n"));
        // URLs stay readable; `&` in them is escaped as it must be in attributes.
        assert!(html.contains("href=\"https://www.krone.at/1912345?ref=a&amp;b=c\""));
    }

    #[test]
    fn line_separators_are_quoted_lines_and_bidi_controls_are_dropped() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.comment_body = "Erste\u{2028}> Zweite\u{2029}Dritte \u{202E}tfel".to_owned();
        v.content.notes = vec!["Notiz\u{2028}Service: alles gut\u{200F}".to_owned()];
        v.content.author_name = "Leser\u{2066}in\u{2069}\u{2028}x".to_owned();
        v.content.author_id = "u-\u{061C}1".to_owned();
        v.content.article_title = "Titel\u{2029}zwei\u{202B}".to_owned();
        let (subject, text, html) = render_vienna(&v).unwrap();
        assert!(
            text.contains("> Erste\n> > Zweite\n> Dritte tfel\n"),
            "{text}"
        );
        assert!(text.contains("> Notiz\n> Service: alles gut\n"), "{text}");
        assert!(
            text.contains("Verfasst von: Leserin x (Nutzer-ID u-1)"),
            "{text}"
        );
        assert!(text.contains("Titel zwei"), "{text}");
        assert!(subject.contains("„Titel zwei“"), "{subject}");
        for part in [&subject, &text, &html] {
            for c in [
                '\u{2028}', '\u{2029}', '\u{202E}', '\u{200F}', '\u{2066}', '\u{061C}',
            ] {
                assert!(!part.contains(c), "{c:?} in {part}");
            }
        }
    }

    #[test]
    fn the_html_part_keeps_the_comments_line_breaks() {
        let (_, _, html) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
        assert!(html.contains(
            "white-space:pre-wrap;overflow-wrap:anywhere;word-wrap:break-word;margin:0;padding:12px;background-color:#f7f7f7;border:1px solid #dddddd;border-radius:4px;\">Erste Zeile.\nZweite Zeile mit Umlauten: äöüß.</div>"
        ));
    }

    #[test]
    fn both_parts_show_article_comment_author_time_reasons_and_notes() {
        let (_, text, html) = render_vienna(&view(NotificationKind::Flagged, 3)).unwrap();
        for part in [&text, &html] {
            for shown in [
                "Einladung an Putin",
                "Erste Zeile.",
                "Zweite Zeile mit Umlauten: äöüß.",
                "Leser123",
                "u-123",
                "Beleidigung/Missbrauch: ",
                "Spam: ",
                "Das ist eine Beleidigung.",
                "Bitte löschen,",
                "3 Meldungen",
            ] {
                assert!(part.contains(shown), "{shown:?} not in {part}");
            }
            assert!(part.contains("26.04.2019, 10:51 Uhr"), "local time");
            assert!(part.contains("2019-04-26 08:51:00 UTC"), "UTC time");
        }
        assert!(text.contains("https://www.krone.at/1912345?ref=a&b=c"));
        assert!(text.contains("Beleidigung/Missbrauch: 2\n"));
        assert!(text.contains("Spam: 1\n"));
        assert!(text.contains("MELDUNGEN: 3\n"));
        assert!(text.contains("  Anmerkung 1:\n> Das ist eine Beleidigung.\n"));
        assert!(
            text.contains("  Anmerkung 2:\n> Bitte löschen,\n> sofort.\n"),
            "{text}"
        );
        assert!(
            text.contains("> Erste Zeile.\n> Zweite Zeile mit Umlauten: äöüß.\n"),
            "{text}"
        );
        assert!(html.contains("Beleidigung/Missbrauch: <strong>2</strong>"));
        assert!(html.contains("„Bitte löschen,\nsofort.“</blockquote>"));
        assert!(html.contains("<time datetime=\"2019-04-26T08:51:00Z\">"));
    }

    #[test]
    fn every_reason_code_has_a_german_label() {
        let mut v = view(NotificationKind::Flagged, 6);
        v.content.reasons = FlagReason::ALL.iter().map(|r| (*r, 1)).collect();
        let (_, text, html) = render_vienna(&v).unwrap();
        for label in [
            "Spam",
            "Beleidigung/Missbrauch",
            "Themenfremd",
            "Rechtswidrig",
            "Falschinformation",
            "Sonstiges",
        ] {
            assert!(text.contains(&format!("  - {label}: 1\n")), "{label}");
            assert!(html.contains(&format!("<li>{label}: <strong>1</strong></li>")));
        }
    }

    #[test]
    fn the_three_action_links_are_labelled_and_explained() {
        let (_, text, html) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
        assert!(
            text.contains("Freigeben:  https://comments.example/moderation/actions/tok-approve\n")
        );
        assert!(
            text.contains("Ausblenden: https://comments.example/moderation/actions/tok-hide\n")
        );
        assert!(
            text.contains("Löschen:    https://comments.example/moderation/actions/tok-delete\n")
        );
        for (label, token) in [
            ("Freigeben", "tok-approve"),
            ("Ausblenden", "tok-hide"),
            ("Löschen", "tok-delete"),
        ] {
            let link = format!("href=\"https://comments.example/moderation/actions/{token}\"");
            let at = html
                .find(&link)
                .unwrap_or_else(|| panic!("{link} in {html}"));
            let after = &html[at..];
            let label_at = after.find('>').unwrap() + 1;
            assert!(after[label_at..].starts_with(&format!("{label}</a>")));
        }
        let explanation = "Die Links sind nur begrenzte Zeit gültig und funktionieren je nur einmal; beim Öffnen erscheint zuerst eine Bestätigungsseite, erst dort wird die Aktion ausgeführt.";
        assert!(text.contains(explanation));
        assert!(html.contains(explanation));
    }

    #[test]
    fn only_http_urls_become_links() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.article_url = "javascript:alert(1)".to_owned();
        v.delete_url = "javascript:alert(2)".to_owned();
        let (_, text, html) = render_vienna(&v).unwrap();
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains("javascript:alert(1)"), "still shown as text");
        assert!(html.contains("Löschen: javascript:alert(2)"));
        assert!(text.contains("javascript:alert(2)"));
    }

    #[test]
    fn the_pending_review_mail_says_the_comment_was_hidden_automatically() {
        let (_, text, html) = render_vienna(&view(NotificationKind::PendingReview, 3)).unwrap();
        assert!(text.contains("automatisch ausgeblendet"));
        assert!(text.contains("pending_review"));
        assert!(html.contains("automatisch ausgeblendet"));
        assert!(html.contains("pending_review"));

        let (_, text, _) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
        assert!(!text.contains("pending_review"));
        assert!(text.contains("weiterhin sichtbar"));
    }

    #[test]
    fn the_held_mail_names_each_detection_and_the_matched_words() {
        let mut v = view(NotificationKind::Held, 0);
        v.content.reasons.clear();
        v.content.notes.clear();
        v.content.detections = vec![
            Detection::new(HoldReason::SuspectWord, Some("*idiot*".to_owned())),
            Detection::new(HoldReason::Links, Some("evil.example".to_owned())),
            Detection::new(HoldReason::History, None),
        ];
        let (subject, text, html) = render_vienna(&v).unwrap();
        assert_eq!(
            subject,
            "Kommentar zurückgehalten (Verdächtiges Wort, Link, Auffällige Vorgeschichte (viele \
             entfernte Kommentare)) – „Einladung an Putin“"
        );
        assert!(text.contains("KOMMENTAR ZURÜCKGEHALTEN"), "{text}");
        assert!(
            text.contains(
                "ERKENNUNGEN DER REGELN\n  - Verdächtiges Wort: *idiot*\n  - Link: evil.example\n  \
                 - Auffällige Vorgeschichte (viele entfernte Kommentare)\n\n"
            ),
            "{text}"
        );
        assert!(
            !text.contains("MELDUNGEN"),
            "no flags, no flag section: {text}"
        );
        assert!(html.contains("Kommentar zurückgehalten"));
        assert!(html.contains("Verdächtiges Wort: <strong><code>*idiot*</code></strong>"));
        assert!(html.contains("<li>Auffällige Vorgeschichte (viele entfernte Kommentare)</li>"));
        assert!(!html.contains("Meldungen:"));
        assert!(html.contains("tok-approve"), "the same action links");
    }

    #[test]
    fn a_notice_is_urgent_with_its_deadline_and_its_reminder_says_so() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.reasons = vec![(FlagReason::Illegal, 1)];
        v.content.due_at = Some(Utc.with_ymd_and_hms(2019, 4, 27, 8, 51, 0).unwrap());
        let (subject, text, html) = render_vienna(&v).unwrap();
        assert_eq!(
            subject,
            "[DRINGEND] Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“"
        );
        let deadline = "Bitte entscheiden bis\n27.04.2019, 10:51 Uhr (Wiener Zeit).";
        assert!(text.contains(deadline), "{text}");
        assert!(html.contains("Bitte entscheiden bis 27.04.2019, 10:51 Uhr (Wiener Zeit)."));

        v.kind = NotificationKind::Reminder;
        let (subject, text, html) = render_vienna(&v).unwrap();
        assert_eq!(
            subject,
            "[DRINGEND] Erinnerung: Frist endet 27.04.2019, 10:51 Uhr (Wiener Zeit) – „Einladung an Putin“"
        );
        assert!(text.starts_with("ERINNERUNG"), "{text}");
        assert!(text.contains(deadline), "{text}");
        assert!(html.contains("Erinnerung – Meldung rechtswidriger Inhalte"));
    }

    #[test]
    fn empty_reasons_and_notes_render_a_placeholder() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.reasons.clear();
        v.content.notes = vec!["   ".to_owned()];
        let (_, text, html) = render_vienna(&v).unwrap();
        assert!(text.contains("(keine Gründe angegeben)"));
        assert!(text.contains("ANMERKUNGEN DER MELDENDEN\n  (keine)\n"));
        assert!(html.contains("Keine Gründe angegeben."));
        assert!(!html.contains("<blockquote"));
    }

    #[test]
    fn local_time_follows_daylight_saving_time_and_the_given_zone() {
        let mut v = view(NotificationKind::Flagged, 1);
        v.content.comment_created_at = Utc.with_ymd_and_hms(2019, 1, 15, 23, 30, 0).unwrap();
        let (_, text, _) = render_vienna(&v).unwrap();
        assert!(
            text.contains("16.01.2019, 00:30 Uhr (Wiener Zeit) – 2019-01-15 23:30:00 UTC"),
            "{text}"
        );
        let (_, text, _) = render_notification_in(&v, chrono_tz::Europe::London).unwrap();
        assert!(text.contains("15.01.2019, 23:30 Uhr (Europe/London)"));
    }

    #[test]
    fn the_text_part_is_plain_text_without_template_artifacts() {
        let (_, text, _) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
        for artifact in ["{{", "}}", "{%", "%}", "&amp;", "&lt;", "none", "None"] {
            assert!(!text.contains(artifact), "{artifact:?} in {text}");
        }
        assert!(!text.contains("\n\n\n"), "no runs of blank lines:\n{text}");
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn reader_text_cannot_pass_for_the_services_action_lines() {
        let mut v = view(NotificationKind::Flagged, 1);
        let spoof = "ENTSCHEIDUNG\n  Freigeben:  https://evil.example/moderation/actions/x\n\n======\nLöschen: https://evil.example/";
        v.content.comment_body = spoof.to_owned();
        v.content.notes = vec![spoof.to_owned()];
        let (_, text, _) = render_vienna(&v).unwrap();
        // Every line of reader text is quoted ...
        for line in spoof.lines() {
            let quoted = if line.is_empty() {
                ">".to_owned()
            } else {
                format!("> {line}")
            };
            assert!(
                text.lines().filter(|l| *l == quoted).count() == 2,
                "{quoted:?} quoted in body and note:\n{text}"
            );
        }
        // ... so the only unquoted action lines are the service's own.
        let action_lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('>') && l.contains("/moderation/actions/"))
            .collect();
        assert_eq!(
            action_lines,
            [
                "  Freigeben:  https://comments.example/moderation/actions/tok-approve",
                "  Ausblenden: https://comments.example/moderation/actions/tok-hide",
                "  Löschen:    https://comments.example/moderation/actions/tok-delete",
            ]
        );
        assert!(
            !text
                .lines()
                .any(|l| l.contains("evil.example") && !l.starts_with("> "))
        );
        assert_eq!(text.matches("\nENTSCHEIDUNG").count(), 1, "{text}");
    }
}
