//! A comment in its context: the article, the parent and the replies, everything that happened
//! to it (edits, flags, decisions, appeals: who and when), and the decision form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use minijinja::{Value, context};

use super::ConsoleError;
use super::form::{self, FormValues};
use super::pages::{local_time, remaining, render};
use super::session::SignedIn;
use crate::entity::author;
use crate::state::AppState;
use crate::store::comments::Order;
use crate::store::{articles, authors, comment_history, comments, flags};

/// Replies shown under the comment.
const REPLIES: u64 = 50;

/// What the pages show of an author.
pub fn author_view(a: &author::Model) -> Value {
    context! {
        id => a.id,
        name => a.name,
        status => a.status,
        comments => a.comments,
        visible => a.visible,
        hidden => a.hidden,
        deleted_by_moderator => a.deleted_by_moderator,
        flags_received => a.flags_received,
        held => a.held,
    }
}

pub async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id = crate::domain::ids::CommentId::parse(&path)
        .ok_or(ConsoleError::NotFound)?
        .0;
    with_form(&state, &signed_in, id, None, None, "notices").await
}

/// The page of comment `id`, its form holding `values` (what its flags suggest without), with
/// the problem of a decision that was refused (422).
pub async fn with_form(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
    values: Option<FormValues>,
    problem: Option<String>,
    tab: &str,
) -> Result<HttpResponse, ConsoleError> {
    let c = comments::find(state.db(), id)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let article = articles::find(state.db(), &c.article_id).await?;
    let parent = match c.parent_id {
        Some(p) => comments::find(state.db(), p).await?,
        None => None,
    };
    let replies = comments::replies(state.db(), c.id, Order::Oldest, None, REPLIES, false).await?;
    let author = authors::find(state.db(), &c.author_id).await?;
    let summary = flags::summaries(state.db(), &[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or_default();
    let history = comment_history::of(state.db(), c.id).await?;
    let form = values.unwrap_or_else(|| FormValues::suggested(&c, &summary));
    let view = |m: &crate::entity::comment::Model| {
        context! {
            id => m.id,
            author_name => m.author_name,
            body => m.body,
            status => m.status,
            created_at => local_time(state, m.created_at),
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        "comment.html",
        context! {
            title => format!("Kommentar {}", c.id),
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "queue",
            id => c.id,
            comment => view(&c),
            edited_at => c.edited_at.map(|t| local_time(state, t)),
            remaining => c.due_at.map(|due| remaining(state.clock().now(), due)),
            article => article.map(|a| context! { id => a.id, title => a.title, url => a.url }),
            parent => parent.as_ref().map(view),
            replies => replies.iter().map(view).collect::<Vec<_>>(),
            author => author.as_ref().map(author_view),
            flag_count => summary.total,
            events => timeline(state, &c, &history),
            form,
            problem,
            tab,
            labels => form::labels(),
        },
    ))
}

/// Everything that happened to the comment, oldest first.
fn timeline(
    state: &AppState,
    c: &crate::entity::comment::Model,
    h: &comment_history::History,
) -> Vec<Value> {
    let mut events: Vec<(DateTime<Utc>, i64, Value)> = Vec::new();
    let mut add = |at: DateTime<Utc>, order: i64, what: String, who: Option<String>| {
        let entry = context! { at => local_time(state, at), what, who };
        events.push((at, order, entry));
    };
    add(
        c.created_at,
        0,
        "Geschrieben".into(),
        Some(c.author_name.clone()),
    );
    if let Some(at) = c.edited_at {
        add(at, 1, "Bearbeitet".into(), Some(c.author_name.clone()));
    }
    for f in &h.flags {
        let mut what = format!("Gemeldet: {}", crate::mail::reason_label(f.reason));
        if let Some(note) = &f.note {
            what.push_str(&format!(" – „{note}“"));
        }
        if f.resolved_at.is_some() {
            what.push_str(" (erledigt)");
        }
        add(
            f.created_at,
            2,
            what,
            Some(format!("Leser {}", f.reporter_id)),
        );
    }
    for d in &h.decisions {
        let mut what = format!("Entscheidung: {}", super::form::german(d.action.as_str()));
        if let Some(category) = d.category {
            what.push_str(&format!(
                " ({})",
                crate::domain::statement::category_label(category)
            ));
        }
        if let Some(explanation) = &d.explanation {
            what.push_str(&format!(" – {explanation}"));
        }
        let who = match (&d.moderator, d.via) {
            (Some(m), Some(via)) => Some(format!("{m} ({via})")),
            (Some(m), None) => Some(m.clone()),
            _ if d.automated => Some("Inhaltsregeln".to_string()),
            _ => None,
        };
        add(d.decided_at, 3, what, who);
    }
    for a in &h.appeals {
        add(
            a.created_at,
            4,
            format!("Einspruch: „{}“", a.text),
            Some(c.author_name.clone()),
        );
        if let (Some(at), Some(by)) = (a.decided_at, &a.decided_by) {
            add(
                at,
                5,
                format!(
                    "Einspruch entschieden: {}",
                    super::form::german(a.status.as_str())
                ),
                Some(by.clone()),
            );
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    events.into_iter().map(|(_, _, v)| v).collect()
}
