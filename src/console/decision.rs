//! The decision form of a comment and what it posts: the same decision the API and the emailed
//! links make (`service::moderation::decide`), recorded with `via: console` and the name the
//! moderator signed in with.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::ConsoleError;
use super::pages::{message, see_other};
use super::session::SignedIn;
use crate::api::actions::statement_problem;
use crate::domain::statement::{DEFAULT_EXPLANATION, Statement, StatementInput};
use crate::domain::states::{FlagReason, Ground, ModerationAction, Via};
use crate::entity::comment;
use crate::mail::{hold_reason_label, reason_label};
use crate::service::moderation::{self as decisions, Decided, Decision};
use crate::state::AppState;
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

#[derive(Deserialize)]
pub struct DecisionForm {
    csrf: Option<String>,
    action: Option<String>,
    ground: Option<String>,
    category: Option<String>,
    legal_reference: Option<String>,
    explanation: Option<String>,
    /// The queue tab to go back to.
    tab: Option<String>,
}

/// Carries out a decision and goes back to the queue; a bad value shows the form again with
/// what was entered (422).
pub async fn decide(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let comment_id = crate::domain::ids::CommentId::parse(&path)
        .ok_or(ConsoleError::NotFound)?
        .0;
    let values = FormValues {
        ground: form.ground.clone().unwrap_or_default(),
        category: form.category.clone().unwrap_or_default(),
        legal_reference: form.legal_reference.clone().unwrap_or_default(),
        explanation: form.explanation.clone().unwrap_or_default(),
    };
    let tab = super::queue::tab_name(form.tab.as_deref());
    let again = |problem: String| {
        super::comment::with_form(
            &state,
            &signed_in,
            comment_id,
            Some(values.clone()),
            Some(problem),
            tab,
        )
    };
    let Some(action) = form
        .action
        .as_deref()
        .and_then(|a| a.parse::<ModerationAction>().ok())
    else {
        return again("Bitte wählen Sie Freigeben, Ausblenden oder Löschen.".to_string()).await;
    };
    let input = StatementInput {
        ground: form.ground.as_deref(),
        category: form.category.as_deref(),
        explanation: form.explanation.as_deref(),
        legal_reference: form.legal_reference.as_deref(),
    };
    let statement = match Statement::parse(action, input) {
        Ok(statement) => statement,
        Err(fields) => return again(statement_problem(&fields)).await,
    };
    let decision = Decision {
        comment_id,
        action,
        moderator: &signed_in.moderator,
        note: None,
        via: Via::Console,
        statement,
        link: None,
    };
    let outcome = match decisions::decide(&state, decision).await {
        Ok(outcome) => outcome,
        Err(crate::error::ServiceError::Validation(fields)) => {
            let problem = fields.values().cloned().collect::<Vec<_>>().join(" ");
            return again(problem).await;
        }
        Err(e) => return Err(e.into()),
    };
    Ok(match outcome {
        Decided::Done(_) => see_other(&format!("/console/queue?tab={tab}")),
        Decided::CommentGone | Decided::AlreadyDecided(_) => return Err(ConsoleError::NotFound),
        Decided::DeletedByAuthor(_) => message(
            StatusCode::CONFLICT,
            "Vom Autor gelöscht",
            "Der Autor hat diesen Kommentar gelöscht. Er kann nicht wiederhergestellt werden.",
        ),
    })
}
