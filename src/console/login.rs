//! Signing in with a moderator token and out again. The token is only read from the form's body:
//! it is never put in a URL, a page or the log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::ConsoleError;
use super::pages::{render, see_other};
use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE, SignedIn};
use crate::auth::Tokens;
use crate::state::AppState;

/// The longest name a moderator may sign in with.
const MAX_NAME_CHARS: usize = 64;

/// The login form, with a form token bound to a cookie of its own.
pub async fn page(state: web::Data<AppState>) -> HttpResponse {
    login_form(&state, StatusCode::OK, "", None)
}

fn login_form(
    state: &AppState,
    status: StatusCode,
    name: &str,
    problem: Option<&str>,
) -> HttpResponse {
    let csrf = session::random_token();
    let mut response = render(
        status,
        "login.html",
        context! { title => "Anmelden", name, problem, csrf => csrf.clone() },
    );
    if let Err(e) = response.add_cookie(&session::cookie(state, LOGIN_COOKIE, csrf)) {
        tracing::error!(error = %e, "the login cookie could not be set");
    }
    response
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: Option<String>,
    token: Option<String>,
    csrf: Option<String>,
}

/// Checks the token and starts a session; a wrong token or a service token shows the form again.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    tokens: web::Data<Tokens>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    match (&expected, form.csrf.as_deref()) {
        (Some(expected), Some(sent)) if session::same_token(expected, sent) => {}
        _ => return Err(ConsoleError::Csrf),
    }
    let name = form.name.as_deref().unwrap_or("").trim().to_string();
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(char::is_control);
    if !name_ok {
        let problem = "Bitte geben Sie Ihren Namen an (höchstens 64 Zeichen).";
        return Ok(login_form(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &name,
            Some(problem),
        ));
    }
    let caller = tokens.find(form.token.as_deref().unwrap_or("").trim());
    match caller {
        Some(caller) if caller.is_moderator() => {}
        Some(_) => {
            tracing::info!(name = %name, "console sign-in with a service token refused");
            let problem = "Dieses Token ist kein Moderations-Token. Die Konsole ist nur für das \
                           Community-Team.";
            return Ok(login_form(
                &state,
                StatusCode::FORBIDDEN,
                &name,
                Some(problem),
            ));
        }
        None => {
            tracing::info!(name = %name, "console sign-in with an unknown token refused");
            let problem = "Name oder Token stimmen nicht.";
            return Ok(login_form(
                &state,
                StatusCode::UNAUTHORIZED,
                &name,
                Some(problem),
            ));
        }
    }
    let value = session::start(&state, &name).await?;
    tracing::info!(moderator = %name, "console sign-in");
    let mut response = see_other("/console/queue");
    add_cookies(
        &mut response,
        [
            session::cookie(&state, SESSION_COOKIE, value),
            session::removal(&state, LOGIN_COOKIE),
        ],
    );
    Ok(response)
}

fn add_cookies<const N: usize>(
    response: &mut HttpResponse,
    cookies: [actix_web::cookie::Cookie<'static>; N],
) {
    for c in cookies {
        if let Err(e) = response.add_cookie(&c) {
            tracing::error!(error = %e, "a console cookie could not be set");
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// Ends the session on the server and removes its cookie.
pub async fn sign_out(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, ConsoleError> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    tracing::info!(moderator = %signed_in.moderator, "console sign-out");
    signed_in.end(&state).await?;
    let mut response = see_other("/console/login");
    add_cookies(&mut response, [session::removal(&state, SESSION_COOKIE)]);
    Ok(response)
}
