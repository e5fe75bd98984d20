//! The confirmation page's form: what it proposes, what it posts and what the post means.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use minijinja::context;
use serde::Deserialize;

use super::page::{label, message, page};
use crate::domain::action_link::ActionClaims;
use crate::domain::statement::{DEFAULT_EXPLANATION, category_label, ground_label};
use crate::domain::states::{Category, Ground, ModerationAction, Via};
use crate::entity::comment;
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::flags::suggested_category;
use crate::store::{articles, flags};

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
pub(super) async fn likely_category(
    state: &AppState,
    comment: &comment::Model,
) -> Result<Category, ServiceError> {
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
pub(super) struct FormValues {
    pub(super) kuerzel: String,
    pub(super) ground: Option<String>,
    pub(super) category: Option<String>,
    pub(super) explanation: Option<String>,
    pub(super) legal_reference: String,
}

/// The confirmation page, with a problem of the previous attempt if there was one.
pub(super) async fn confirm_form(
    state: &AppState,
    (claims, comment): (ActionClaims, comment::Model),
    problem: Option<&str>,
    values: FormValues,
) -> Result<HttpResponse, ServiceError> {
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
pub(super) struct ConfirmForm {
    pub(super) kuerzel: Option<String>,
    pub(super) ground: Option<String>,
    pub(super) category: Option<String>,
    pub(super) explanation: Option<String>,
    pub(super) legal_reference: Option<String>,
}

impl ConfirmForm {
    /// None of the page's fields was sent.
    pub(super) fn is_empty(&self) -> bool {
        self.kuerzel.is_none()
            && self.ground.is_none()
            && self.category.is_none()
            && self.explanation.is_none()
            && self.legal_reference.is_none()
    }
}

/// 400: the `POST` did not carry the page's form.
pub(super) fn bad_form(why: &str) -> HttpResponse {
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
pub(super) fn email_moderator(state: &AppState, kuerzel: &str) -> Result<String, &'static str> {
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

/// What is wrong with the statement the page posted, in German.
pub(crate) fn statement_problem(fields: &std::collections::BTreeMap<String, String>) -> String {
    form_problem(fields, |_| None)
}

/// What is wrong with a form, in German: the statement's fields and those `label` names.
pub(crate) fn form_problem(
    fields: &std::collections::BTreeMap<String, String>,
    label: impl Fn(&str) -> Option<&'static str>,
) -> String {
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
            other => label(other).unwrap_or("Formular"),
        })
        .collect();
    format!("Bitte prüfen: {}.", names.join(", "))
}
