//! The decision form's values and choices, shown by the queue and by a comment's page.

use std::collections::BTreeMap;

use minijinja::{Value, context};
use serde::Serialize;

use crate::domain::statement::DEFAULT_EXPLANATION;
use crate::domain::states::{FlagReason, Ground};
use crate::entity::comment;
use crate::mail::{hold_reason_label, reason_label};
use crate::store::flags::{FlagSummary, suggested_category};

/// What a decision form holds: what the flags and detections suggest, or what was entered.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FormValues {
    pub ground: String,
    pub category: String,
    pub legal_reference: String,
    pub explanation: String,
}

impl FormValues {
    /// What the comment's open flags and the content rules' detections suggest.
    pub fn suggested(c: &comment::Model, summary: &FlagSummary) -> FormValues {
        let illegal = c.due_at.is_some() || summary.by_reason.contains_key(&FlagReason::Illegal);
        let category = suggested_category(summary, &crate::views::dto::detections_of(c));
        FormValues {
            ground: if illegal {
                Ground::Illegal
            } else {
                Ground::Terms
            }
            .to_string(),
            category: category.to_string(),
            legal_reference: String::new(),
            explanation: DEFAULT_EXPLANATION.to_string(),
        }
    }
}

/// The choices of the form and the German labels the pages show.
pub fn labels() -> Value {
    let (grounds, categories) = crate::api::actions::statement_choices();
    let reasons: BTreeMap<_, _> = FlagReason::ALL
        .iter()
        .map(|r| (r.as_str(), reason_label(*r)))
        .collect();
    let rules: BTreeMap<_, _> = crate::domain::states::HoldReason::ALL
        .iter()
        .map(|r| (r.as_str(), hold_reason_label(*r)))
        .collect();
    context! { grounds, categories, reasons, rules }
}

/// The German word the pages show for a status, an action, a way of acting or a setting (the
/// value itself where there is none); the forms' values and `data-*` attributes stay English.
pub fn german(word: &str) -> &str {
    match word {
        "visible" => "sichtbar",
        "pending_review" => "zurückgehalten",
        "hidden" => "ausgeblendet",
        "deleted" => "gelöscht",
        "removed" => "entfernt",
        "active" => "aktiv",
        "premod" => "Vorab-Prüfung",
        "suspended" => "gesperrt",
        "banned" => "dauerhaft gesperrt",
        "approve" => "Freigabe",
        "hide" => "Ausblendung",
        "delete" => "Löschung",
        "hold" => "Zurückhaltung",
        "close_discussion" => "Diskussion geschlossen",
        "reopen_discussion" => "Diskussion wieder geöffnet",
        "author_active" => "Verfasser aktiv",
        "author_premod" => "Verfasser unter Vorab-Prüfung",
        "author_suspended" => "Verfasser gesperrt",
        "author_banned" => "Verfasser dauerhaft gesperrt",
        "rules_changed" => "Regeln geändert",
        "author_erased" => "Verfasser gelöscht (Datenschutz)",
        "author_note" => "Notiz zum Verfasser",
        "article_settings" => "Artikel-Einstellungen",
        "api" => "API",
        "email" => "E-Mail-Link",
        "console" => "Konsole",
        "open" => "offen",
        "closed" => "geschlossen",
        "expired" => "Altersgrenze erreicht",
        "moderator" => "vom Community-Team",
        "upheld" => "bestätigt",
        "reversed" => "aufgehoben",
        "withdrawn" => "zurückgezogen",
        "pending" => "offen",
        "sent" => "gesendet",
        "failed" => "gescheitert",
        "flagged" => "gemeldet",
        "held" => "zurückgehalten",
        "reminder" => "Erinnerung",
        "inherit" => "wie die Inhaltsregeln",
        "allow" => "erlaubt",
        "reject" => "ablehnen",
        "banned_word" => "Verbotenes Wort",
        "repeat_post" => "Wiederholter Text",
        "author_status" => "Verfasser gesperrt",
        "rate_limit" => "Zu viele Kommentare in kurzer Zeit",
        other => other,
    }
}

/// What is wrong with a console form, in German (the fields' names).
pub fn problem(fields: &BTreeMap<String, String>) -> String {
    crate::api::actions::form_problem(fields, |field| {
        Some(match field {
            "status" => "Status",
            "until" => "Gesperrt bis (in der Zukunft)",
            "reason" => "Grund (bei Sperren nötig)",
            "hide_existing" => "Bestehende Kommentare ausblenden (nur bei Sperren)",
            "text" => "Notiz (1 bis 2.000 Zeichen)",
            "links" => "Links",
            "message" => "Hinweis (bis 1.000 Zeichen)",
            "action" => "Aktion",
            "id" => "Kennung",
            "banned_words" => "Verbotene Wörter",
            "suspect_words" => "Zu prüfende Wörter",
            "link_allowlist" => "Erlaubte Domains",
            "repeat_post_minutes" => "Wiederholungen (Minuten)",
            "new_author_premod" => "Neue Verfasser",
            f if f.starts_with("history") => "Vorgeschichte",
            _ => return None,
        })
    })
}

/// A form's field, trimmed, if it is not blank.
pub fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A time a form's `datetime-local` field gives (newsroom time) as RFC 3339; anything else as
/// it was sent, for the parser to name.
pub fn entered_time(state: &crate::state::AppState, raw: &str) -> String {
    let tz = state.settings().lifecycle.newsroom_timezone;
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map_or_else(|| raw.to_string(), |t| t.to_rfc3339())
}

/// The German message of a refused form, or the error when it is not about the form's fields.
pub fn refused(e: crate::error::ServiceError) -> Result<String, super::ConsoleError> {
    match e {
        crate::error::ServiceError::Validation(fields) => Ok(problem(&fields)),
        e => Err(e.into()),
    }
}
