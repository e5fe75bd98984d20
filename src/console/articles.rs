//! An article: its discussion (open or closed, and why), its comments counted by status, its
//! settings with their form (the parse and service of `PUT /api/v1/articles/{id}/settings`) and
//! the close and reopen forms (the service of `POST /api/v1/articles/{id}/discussion`), all
//! recorded with `via: console` and the name the moderator signed in with.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::ConsoleError;
use super::form::{entered_time, given, refused};
use super::pages::{local_time, path_segment, render, see_other};
use super::session::SignedIn;
use crate::api::article_settings::parse_settings;
use crate::api::articles::{parse_article_id, parse_change};
use crate::domain::states::{ArticleLinkPolicy, Via};
use crate::service::{article_views, articles};
use crate::state::AppState;
use crate::store::comments;

/// What the settings form holds: the article's settings, or what was entered.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SettingsForm {
    csrf: Option<String>,
    premod: Option<String>,
    links: Option<String>,
    message: Option<String>,
}

/// The close and the reopen form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct DiscussionForm {
    csrf: Option<String>,
    reason: Option<String>,
    until: Option<String>,
}

/// A refused form shown again: which form, what was entered, why.
#[derive(Default)]
struct Again {
    settings: Option<SettingsForm>,
    discussion: Option<DiscussionForm>,
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
    let id = parse_article_id(raw_id).map_err(|_| ConsoleError::NotFound)?;
    let article = crate::store::articles::find(state.db(), id.as_str())
        .await?
        .ok_or(ConsoleError::NotFound)?;
    let now = state.clock().now();
    let view = article_views::article(state, &article, now).await?;
    let discussion = &view.discussion;
    let counts: Vec<_> = comments::counts_by_status(state.db(), &article.id)
        .await?
        .into_iter()
        .map(|(status, n)| context! { status => status.as_str(), n })
        .collect();
    let settings = again.settings.unwrap_or_else(|| SettingsForm {
        premod: article.premod.then(|| "true".to_string()),
        links: Some(article.link_policy.to_string()),
        message: article.settings_message.clone(),
        ..SettingsForm::default()
    });
    let (problem_of, problem) = again.problem.unzip();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        "article.html",
        context! {
            title => article.title,
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "",
            id => article.id,
            url => article.url,
            topic => article.topic,
            published_at => local_time(state, article.published_at),
            discussion => discussion.status.as_str(),
            closes_at => local_time(state, discussion.closes_at),
            closed_at => discussion.closed_at.map(|t| local_time(state, t)),
            closed_reason => discussion.closed_reason.map(|r| r.as_str()),
            comment_count => article.comment_count,
            counts,
            current => view.settings,
            settings,
            discussion_form => again.discussion.unwrap_or_default(),
            links => ArticleLinkPolicy::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            problem_of,
            problem,
        },
    ))
}

/// Stores the article's settings, as the API does; bad input shows the form again (422).
pub async fn set_settings(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let id = parse_article_id(&path).map_err(|_| ConsoleError::NotFound)?;
    let change = parse_settings(
        form.premod.is_some(),
        given(&form.links),
        form.message.as_deref(),
    );
    let outcome = match change {
        Ok(change) => {
            articles::set_settings(&state, &signed_in.caller(), Via::Console, &id, change)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/console/articles/{}",
            path_segment(id.as_str())
        ))),
        Err(e) => {
            let again = Again {
                settings: Some(form),
                problem: Some(("settings", refused(e)?)),
                ..Again::default()
            };
            show(&state, &signed_in, &path, again).await
        }
    }
}

pub async fn close(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<DiscussionForm>,
) -> Result<HttpResponse, ConsoleError> {
    change_discussion(state, signed_in, path, form.into_inner(), "close").await
}

pub async fn reopen(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: web::Form<DiscussionForm>,
) -> Result<HttpResponse, ConsoleError> {
    change_discussion(state, signed_in, path, form.into_inner(), "reopen").await
}

/// Closes or reopens the discussion, as the API does; bad input shows the form again (422).
async fn change_discussion(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    path: web::Path<String>,
    form: DiscussionForm,
    action: &'static str,
) -> Result<HttpResponse, ConsoleError> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    let id = parse_article_id(&path).map_err(|_| ConsoleError::NotFound)?;
    let until = given(&form.until).map(|raw| entered_time(&state, raw));
    let outcome = match parse_change(Some(action), given(&form.reason), until.as_deref()) {
        Ok(change) => {
            let caller = signed_in.caller();
            articles::change_discussion(&state, &caller, Via::Console, &id, change)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!(
            "/console/articles/{}",
            path_segment(id.as_str())
        ))),
        Err(e) => {
            let again = Again {
                discussion: Some(form),
                problem: Some((action, refused(e)?)),
                ..Again::default()
            };
            show(&state, &signed_in, &path, again).await
        }
    }
}
