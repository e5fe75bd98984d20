//! The decision form of a comment and what it posts: the same decision the API and the emailed
//! links make (`service::moderation::decide`), recorded with `via: console` and the name the
//! moderator signed in with.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::ConsoleError;
use super::form::FormValues;
use super::pages::{message, see_other};
use super::session::SignedIn;
use crate::api::actions::statement_problem;
use crate::domain::statement::{Statement, StatementInput};
use crate::domain::states::{ModerationAction, Via};
use crate::service::moderation::{self as decisions, Decided, Decision};
use crate::state::AppState;

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
