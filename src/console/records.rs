//! The audit log (filtered by moderator, action, article or author; keyset pages) and the
//! deliveries: the mail and webhook outboxes' pending and failed rows with their last error.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::ConsoleError;
use super::form::given;
use super::pages::{local_time, render};
use super::session::SignedIn;
use crate::api::pagination::IdPage;
use crate::domain::states::{EventStatus, LogAction, NotificationStatus};
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::{audit, events, outbox};

/// Rows of each delivery list.
const DELIVERIES: u64 = 50;

#[derive(Deserialize)]
pub struct LogQuery {
    moderator: Option<String>,
    action: Option<String>,
    article: Option<String>,
    author: Option<String>,
    cursor: Option<String>,
}

pub async fn log(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let action = match given(&query.action).map(str::to_string) {
        Some(a) => Some(
            a.parse::<LogAction>()
                .map_err(|_| ServiceError::BadRequest(format!("unknown action `{a}`")))?,
        ),
        None => None,
    };
    let filter = audit::Filter {
        moderator: given(&query.moderator).map(str::to_string),
        action,
        article_id: given(&query.article).map(str::to_string),
        author_id: given(&query.author).map(str::to_string),
        comment_id: None,
    };
    let page = IdPage::parse(None, query.cursor.as_deref(), "l")?;
    let rows = audit::list_where(state.db(), &filter, page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.id);
    let entries: Vec<_> = rows
        .iter()
        .map(|e| {
            context! {
                at => local_time(&state, e.at),
                moderator => e.moderator,
                action => e.action,
                via => e.via,
                comment_id => e.comment_id,
                article_id => e.article_id,
                author_id => e.author_id,
                note => e.note,
            }
        })
        .collect();
    let actions: Vec<&str> = LogAction::ALL.iter().map(|a| a.as_str()).collect();
    Ok(render(
        StatusCode::OK,
        "log.html",
        context! {
            title => "Moderationsprotokoll",
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "log",
            entries,
            actions,
            next_cursor,
            filter => context! {
                moderator => filter.moderator,
                action => filter.action.map(|a| a.as_str()),
                article => filter.article_id,
                author => filter.author_id,
            },
        },
    ))
}

pub async fn deliveries(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, ConsoleError> {
    let mut mails = Vec::new();
    for status in [NotificationStatus::Pending, NotificationStatus::Failed] {
        for n in outbox::list(state.db(), Some(status), None, DELIVERIES).await? {
            mails.push(context! {
                id => n.id,
                comment_id => n.comment_id,
                kind => n.kind,
                status => n.status,
                attempts => n.attempts,
                created_at => local_time(&state, n.created_at),
                next_attempt_at => (n.status == NotificationStatus::Pending)
                    .then(|| local_time(&state, n.next_attempt_at)),
                last_error => n.last_error,
            });
        }
    }
    let mut hooks = Vec::new();
    for status in [EventStatus::Pending, EventStatus::Failed] {
        for e in events::list(state.db(), Some(status), None, DELIVERIES).await? {
            hooks.push(context! {
                id => e.id,
                event_type => e.event_type,
                status => e.status,
                attempts => e.attempts,
                created_at => local_time(&state, e.created_at),
                next_attempt_at => (e.status == EventStatus::Pending)
                    .then(|| local_time(&state, e.next_attempt_at)),
                last_error => e.last_error,
            });
        }
    }
    Ok(render(
        StatusCode::OK,
        "deliveries.html",
        context! {
            title => "Zustellungen",
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "deliveries",
            mails,
            hooks,
        },
    ))
}
