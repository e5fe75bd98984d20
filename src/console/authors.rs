//! An author: the status and its history, the counts, recent comments of every status, the
//! moderators' notes; the status form (the same parse and service as
//! `PUT /api/v1/authors/{id}/status`) and the note form (as `POST .../notes`), both recorded
//! with `via: console` and the name the moderator signed in with.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::ConsoleError;
use super::form::{self, entered_time, given, refused};
use super::pages::{local_time, path_segment, render, see_other};
use super::session::SignedIn;
use crate::api::authors::{StatusInput, parse_status_change};
use crate::api::notes::parse_note;
use crate::domain::statement::{DEFAULT_EXPLANATION, StatementInput};
use crate::domain::states::Via;
use crate::service::screening::effective_status;
use crate::service::{authors, notes};
use crate::state::AppState;
use crate::store::audit;

/// Recent comments, status changes and notes shown.
const RECENT: u64 = 20;

/// What the status form holds: the author's status, or what was entered.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct StatusForm {
    csrf: Option<String>,
    status: Option<String>,
    until: Option<String>,
    reason: Option<String>,
    hide_existing: Option<String>,
    ground: Option<String>,
    category: Option<String>,
    legal_reference: Option<String>,
    explanation: Option<String>,
}

#[derive(Deserialize)]
pub struct NoteForm {
    csrf: Option<String>,
    text: Option<String>,
}

/// A refused form shown again: which form, what was entered, why.
#[derive(Default)]
struct Again {
    status: Option<StatusForm>,
    note: Option<String>,
    problem: Option<(&'static str, String)>,
}

pub async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    show(&state, &signed_in, &path, Again::default()).await
}

async fn show(
    state: &AppState,
    signed_in: &SignedIn,
    raw_id: &str,
    again: Again,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::domain::comment::parse_known_author_id(raw_id)
        .map_err(|_| ConsoleError::NotFound)?;
    let now = state.clock().now();
    let author = crate::store::authors::find(state.db(), &id).await?;
    let comments = match &author {
        Some(_) => authors::comments(state, &id, None, RECENT).await?,
        None => Vec::new(),
    };
    let filter = audit::Filter {
        author_id: Some(id.clone()),
        ..audit::Filter::default()
    };
    let history = audit::list_where(state.db(), &filter, None, RECENT).await?;
    let notes = notes::list(state, &id, None, RECENT).await?;
    let view = author.as_ref().map(|a| {
        let (status, until, reason) = effective_status(a, now);
        context! {
            status => status.as_str(),
            until => until.map(|t| local_time(state, t)),
            reason,
            first_seen_at => local_time(state, a.first_seen_at),
            author => super::comment::author_view(a),
            approved => a.approved,
            deleted_by_author => a.deleted_by_author,
        }
    });
    let status_form = again.status.unwrap_or_else(|| StatusForm {
        status: author
            .as_ref()
            .map(|a| effective_status(a, now).0.to_string()),
        explanation: Some(DEFAULT_EXPLANATION.to_string()),
        ..StatusForm::default()
    });
    let (problem_of, problem) = again.problem.unzip();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let entry = |e: &crate::entity::moderation_log::Model| {
        context! {
            at => local_time(state, e.at), moderator => e.moderator, action => e.action,
            via => e.via, note => e.note,
        }
    };
    Ok(render(
        status,
        "author.html",
        context! {
            title => format!("Verfasser {id}"),
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "",
            id,
            view,
            comments => comments.iter().map(|(c, a)| context! {
                id => c.id, status => c.status, body => c.body,
                created_at => local_time(state, c.created_at),
                article => context! { id => a.id, title => a.title },
            }).collect::<Vec<_>>(),
            history => history.iter().map(entry).collect::<Vec<_>>(),
            notes => notes.iter().map(|n| context! {
                moderator => n.moderator, text => n.text, created_at => local_time(state, n.created_at),
            }).collect::<Vec<_>>(),
            form => status_form,
            note => again.note,
            problem_of,
            problem,
            statuses => ["active", "premod", "suspended", "banned"],
            labels => form::labels(),
        },
    ))
}

/// Gives the author a status, as the API does; bad input shows the form again (422).
pub async fn set_status(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<StatusForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let until = given(&form.until).map(|raw| entered_time(&state, raw));
    let input = StatusInput {
        status: given(&form.status),
        until: until.as_deref(),
        reason: given(&form.reason),
        hide_existing: form.hide_existing.is_some(),
        statement: StatementInput {
            ground: given(&form.ground),
            category: given(&form.category),
            explanation: given(&form.explanation),
            legal_reference: given(&form.legal_reference),
        },
    };
    let outcome = match parse_status_change(&path, input) {
        Ok((id, change)) => {
            authors::set_status(&state, &signed_in.caller(), Via::Console, &id, change)
                .await
                .map(|_| id)
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(id) => Ok(see_other(&format!(
            "/console/authors/{}",
            path_segment(&id)
        ))),
        Err(e) => {
            let problem = refused(e)?;
            let again = Again {
                status: Some(form),
                problem: Some(("status", problem)),
                ..Again::default()
            };
            show(&state, &signed_in, &path, again).await
        }
    }
}

/// Adds a note about the author, as the API does; bad input shows the form again (422).
pub async fn add_note(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let outcome = match parse_note(&path, form.text.as_deref()) {
        Ok((id, text)) => notes::add(
            &state,
            &signed_in.caller(),
            Via::Console,
            &id,
            text.as_str(),
        )
        .await
        .map(|_| id),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(id) => Ok(see_other(&format!(
            "/console/authors/{}#notes",
            path_segment(&id)
        ))),
        Err(e) => {
            let problem = refused(e)?;
            let again = Again {
                note: form.text,
                problem: Some(("note", problem)),
                ..Again::default()
            };
            show(&state, &signed_in, &path, again).await
        }
    }
}
