//! Bearer-token authentication: `ServiceCaller` (any configured token) and `Moderator`.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, http::header, web};

use secrecy::{ExposeSecret, SecretString};

use crate::error::ServiceError;

/// The role a bearer token grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The website backend.
    Service,
    /// The community team; may do everything a service token may.
    Moderator,
}

impl std::str::FromStr for Role {
    type Err = ();

    /// `service` or `moderator`, as `API_TOKENS` names them.
    fn from_str(raw: &str) -> Result<Role, ()> {
        match raw {
            "service" => Ok(Role::Service),
            "moderator" => Ok(Role::Moderator),
            _ => Err(()),
        }
    }
}

/// One configured token (an entry of `API_TOKENS`, `name:role:token`). `Debug` never shows the
/// token.
#[derive(Clone, Debug)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    pub token: SecretString,
}

/// Who is calling.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    pub fn is_moderator(&self) -> bool {
        self.role == Role::Moderator
    }
}

/// The configured tokens; lookups compare in constant time.
#[derive(Clone, Debug, Default)]
pub struct Tokens(Vec<ApiToken>);

impl Tokens {
    pub fn new(tokens: Vec<ApiToken>) -> Tokens {
        Tokens(tokens)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn find(&self, presented: &str) -> Option<Caller> {
        let mut found = None;
        for t in &self.0 {
            if constant_time_eq(t.token.expose_secret().as_bytes(), presented.as_bytes()) {
                found = Some(Caller {
                    name: t.name.clone(),
                    role: t.role,
                });
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ServiceError> {
    let tokens = req
        .app_data::<web::Data<Tokens>>()
        .ok_or_else(|| ServiceError::Internal("the token table is missing".into()))?;
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .ok_or(ServiceError::Unauthorized)?;
    tokens.find(presented).ok_or(ServiceError::Unauthorized)
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is case-insensitive
/// (RFC 9110, 11.1): `bearer`, `Bearer` and `BEARER` are the same.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Any configured token: the website backend (or a moderator).
#[derive(Clone, Debug)]
pub struct ServiceCaller(pub Caller);

/// `FromRequest` for an extractor that authenticates the caller, then turns the caller into
/// itself with `$accept` (which may refuse it).
macro_rules! caller_extractor {
    ($extractor:ident, $accept:expr) => {
        impl FromRequest for $extractor {
            type Error = ServiceError;
            type Future = Ready<Result<Self, Self::Error>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(authenticate(req).and_then($accept))
            }
        }
    };
}

caller_extractor!(ServiceCaller, |caller| Ok(ServiceCaller(caller)));

/// A moderator token.
#[derive(Clone, Debug)]
pub struct Moderator(pub Caller);

caller_extractor!(Moderator, |caller: Caller| {
    if caller.is_moderator() {
        Ok(Moderator(caller))
    } else {
        Err(ServiceError::Forbidden(
            "this needs a moderator token".into(),
        ))
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR  abc ",
            " Bearer abc",
        ] {
            assert_eq!(bearer_token(value), Some("abc"), "{value:?}");
        }
        for value in [
            "Basic abc",
            "Bearerabc",
            "Bearer",
            "Bearer ",
            "abc",
            "",
            "Bearer\tabc",
        ] {
            assert_eq!(bearer_token(value), None, "{value:?}");
        }
    }

    #[test]
    fn tokens_are_found_only_by_their_exact_value() {
        let tokens = Tokens::new(vec![ApiToken {
            name: "web".into(),
            role: Role::Service,
            token: SecretString::from("abcdefgh12"),
        }]);
        assert_eq!(
            tokens.find("abcdefgh12").map(|c| c.name),
            Some("web".to_string())
        );
        assert!(tokens.find("abcdefgh1").is_none());
        assert!(tokens.find("abcdefgh123").is_none());
        assert!(tokens.find("").is_none());
    }
}
