//! Console sessions: a random cookie value, stored only as its SHA-256, with the moderator's
//! name and a form token; a session ends after 8 hours without use (on the service's clock) or
//! when its moderator signs out.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use base64::Engine as _;
use chrono::Duration;
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::ConsoleError;
use crate::entity::console_session;
use crate::state::AppState;
use crate::store::console_sessions;

/// The cookie of a signed-in moderator.
pub const SESSION_COOKIE: &str = "console_session";
/// The cookie the login form's token is checked against (before there is a session).
pub const LOGIN_COOKIE: &str = "console_login";
/// A session ends after this long without a request.
pub fn idle_limit() -> Duration {
    Duration::hours(8)
}
/// A session's last use is recorded at most this often (a request is not a write each time).
fn touch_interval() -> Duration {
    Duration::minutes(1)
}

/// A new random value for a cookie or a form token.
pub fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn hash(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie of the console: HttpOnly, SameSite=Strict, for `/console` only, and `Secure` when
/// the service is reached over HTTPS.
pub fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(
            state
                .settings()
                .http
                .public_base_url
                .starts_with("https://"),
        )
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new());
    c.make_removal();
    c
}

/// Starts a session for `moderator`; returns the cookie's value.
pub async fn start(state: &AppState, moderator: &str) -> Result<String, ConsoleError> {
    let value = random_token();
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    console_sessions::insert(
        &*txn,
        console_session::Model {
            id_hash: hash(&value),
            moderator: moderator.to_string(),
            csrf: random_token(),
            created_at: now,
            last_seen_at: now,
        },
        now - idle_limit(),
    )
    .await?;
    txn.commit().await?;
    Ok(value)
}

/// A signed-in moderator.
pub struct SignedIn {
    /// The name the moderator signed in with (what the audit log records).
    pub moderator: String,
    /// The session's form token.
    pub csrf: String,
    id_hash: String,
}

impl SignedIn {
    /// The moderator as the services record who acted.
    pub fn caller(&self) -> crate::auth::Caller {
        crate::auth::Caller {
            name: self.moderator.clone(),
            role: crate::auth::Role::Moderator,
        }
    }

    /// `Err` unless `sent` is the session's form token.
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), ConsoleError> {
        match sent {
            Some(sent) if same_token(sent, &self.csrf) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }

    /// Ends the session on the server.
    pub async fn end(self, state: &AppState) -> Result<(), ConsoleError> {
        let txn = state.begin_write().await?;
        console_sessions::delete(&*txn, &self.id_hash).await?;
        txn.commit().await?;
        Ok(())
    }
}

async fn signed_in(state: &AppState, value: Option<String>) -> Result<SignedIn, ConsoleError> {
    let value = value.ok_or(ConsoleError::SignIn)?;
    let id_hash = hash(&value);
    let session = console_sessions::find(state.db(), &id_hash)
        .await?
        .ok_or(ConsoleError::SignIn)?;
    let now = state.clock().now();
    if now - session.last_seen_at >= idle_limit() {
        let txn = state.begin_write().await?;
        console_sessions::delete(&*txn, &id_hash).await?;
        txn.commit().await?;
        return Err(ConsoleError::SignIn);
    }
    if now - session.last_seen_at >= touch_interval() {
        let txn = state.begin_write().await?;
        console_sessions::touch(&*txn, &id_hash, now).await?;
        txn.commit().await?;
    }
    Ok(SignedIn {
        moderator: session.moderator,
        csrf: session.csrf,
        id_hash,
    })
}

impl FromRequest for SignedIn {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<SignedIn, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let value = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string());
        Box::pin(async move {
            let state = state.ok_or(ConsoleError::SignIn)?;
            signed_in(&state, value).await
        })
    }
}
