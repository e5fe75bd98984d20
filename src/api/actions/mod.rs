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

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::ErrorBody;
use crate::api::routes::Documented;
use crate::domain::action_link::ActionClaims;
use crate::domain::statement::{Statement, StatementInput};
use crate::domain::states::{Ground, ModerationAction, Via};
use crate::entity::comment;
use crate::error::ServiceError;
use crate::service::moderation::{self as decisions, Decided, Decision, Link, LinkCheck};
use crate::state::AppState;

mod form;
mod page;

use crate::domain::statement::DEFAULT_EXPLANATION;
use form::{ConfirmForm, FormValues, bad_form, confirm_form, email_moderator, likely_category};
pub(crate) use form::{form_problem, statement_choices, statement_problem};
pub(crate) use page::page_headers;
use page::{already_decided, comment_gone, deleted_by_author, label, message};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        Documented::route(__path_confirm_page, confirm_page)
            .and(__path_carry_out, carry_out)
            .app_data(web::FormConfig::default().limit(MAX_FORM_BYTES)),
    );
}

/// The largest confirmation form the page's `POST` reads (the page's own form is far smaller).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// Checks a link without acting. A link that would act gives its claims and comment; any other
/// outcome is a finished page.
async fn check(
    state: &AppState,
    token: &str,
) -> Result<Result<(ActionClaims, comment::Model), HttpResponse>, ServiceError> {
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
) -> Result<HttpResponse, ServiceError> {
    match check(&state, &path).await? {
        Ok(valid) => confirm_form(&state, valid, None, FormValues::default()).await,
        Err(page) => Ok(page),
    }
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
) -> Result<HttpResponse, ServiceError> {
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
