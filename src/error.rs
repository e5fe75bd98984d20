//! The one error type of the HTTP API and its JSON shape:
//! `{"error": {"code": "...", "message": "...", "details": {...}}}`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("commenting on this article is no longer possible")]
    DiscussionClosed(Box<Value>),
    #[error("{0}")]
    NotFound(String),
    /// The author is banned (`until` None) or suspended until `until`.
    #[error("{}", author_blocked_message(*.suspended, .until))]
    AuthorBlocked {
        suspended: bool,
        until: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The content rules refuse the comment.
    #[error("the comment breaks the community rules ({0})")]
    CommentRejected(crate::domain::states::RejectRule),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyConflict,
    /// The action no longer fits the object's state; `current` names the state.
    #[error("{message}")]
    StateConflict { message: String, current: String },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("some fields are invalid")]
    Validation(BTreeMap<String, String>),
    #[error("too many comments; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::DiscussionClosed(_) => "discussion_closed",
            ApiError::NotFound(_) => "not_found",
            ApiError::AuthorBlocked {
                suspended: false, ..
            } => "author_banned",
            ApiError::AuthorBlocked { .. } => "author_suspended",
            ApiError::CommentRejected(_) => "comment_rejected",
            ApiError::IdempotencyConflict => "idempotency_conflict",
            ApiError::StateConflict { .. } => "state_conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Validation(_) => "validation_failed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
        }
    }

    /// One field broke a rule.
    pub fn field(name: &str, reason: impl Into<String>) -> ApiError {
        ApiError::Validation(BTreeMap::from([(name.to_string(), reason.into())]))
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(Box::new(e))
    }

    fn details(&self) -> Value {
        match self {
            ApiError::DiscussionClosed(notice) => json!({ "notice": notice }),
            ApiError::Validation(fields) => json!({ "fields": fields }),
            ApiError::RateLimited { retry_after_secs } => {
                json!({ "retry_after_seconds": retry_after_secs })
            }
            ApiError::PayloadTooLarge(limit) => json!({ "limit_bytes": limit }),
            ApiError::StateConflict { current, .. } => json!({ "current": current }),
            ApiError::AuthorBlocked { until, .. } => {
                json!({ "until": until.map(crate::views::dto::format_ts) })
            }
            ApiError::CommentRejected(rule) => json!({ "rule": rule }),
            _ => json!({}),
        }
    }

    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code(), "message": self.to_string(), "details": self.details()}})
    }
}

fn author_blocked_message(
    suspended: bool,
    until: &Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    match (suspended, until) {
        (true, Some(until)) => format!(
            "the author is suspended until {} and may not post",
            crate::views::dto::format_ts(*until)
        ),
        _ => "the author is banned and may not post".to_string(),
    }
}

/// Collects field errors so a request reports all of them at once.
#[derive(Default)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the reason under `name`.
    pub fn check<T, E: Into<String>>(&mut self, name: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.insert(name.to_string(), e.into());
                None
            }
        }
    }

    pub fn add(&mut self, name: &str, reason: impl Into<String>) {
        self.0.insert(name.to_string(), reason.into());
    }

    pub fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<sea_orm::TransactionError<E>> for ApiError
where
    ApiError: From<E>,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_)
            | ApiError::DiscussionClosed(_)
            | ApiError::AuthorBlocked { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::IdempotencyConflict | ApiError::StateConflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) | ApiError::CommentRejected(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            let mut chain = cause.to_string();
            let mut source = cause.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthorized => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            _ => {}
        }
        response.json(self.body())
    }
}
