//! How the services' outcomes answer over HTTP: each [`ServiceError`] as its status and the
//! contract's one error shape, `{"error": {"code": "...", "message": "...", "details": {...}}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::error::ServiceError;

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::DiscussionClosed(_) => "discussion_closed",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::AuthorBlocked {
                suspended: false, ..
            } => "author_banned",
            ServiceError::AuthorBlocked { .. } => "author_suspended",
            ServiceError::CommentRejected(_) => "comment_rejected",
            ServiceError::IdempotencyConflict => "idempotency_conflict",
            ServiceError::StateConflict { .. } => "state_conflict",
            ServiceError::PayloadTooLarge(_) => "payload_too_large",
            ServiceError::Validation(_) => "validation_failed",
            ServiceError::RateLimited { .. } => "rate_limited",
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    fn details(&self) -> Value {
        match self {
            ServiceError::DiscussionClosed(notice) => json!({ "notice": notice }),
            ServiceError::Validation(fields) => json!({ "fields": fields }),
            ServiceError::RateLimited { retry_after_secs } => {
                json!({ "retry_after_seconds": retry_after_secs })
            }
            ServiceError::PayloadTooLarge(limit) => json!({ "limit_bytes": limit }),
            ServiceError::StateConflict { current, .. } => json!({ "current": current }),
            ServiceError::AuthorBlocked { until, .. } => {
                json!({ "until": until.map(crate::views::dto::format_ts) })
            }
            ServiceError::CommentRejected(rule) => json!({ "rule": rule }),
            _ => json!({}),
        }
    }

    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code(), "message": self.to_string(), "details": self.details()}})
    }
}

impl ResponseError for ServiceError {
    fn status_code(&self) -> StatusCode {
        match self {
            ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_)
            | ServiceError::DiscussionClosed(_)
            | ServiceError::AuthorBlocked { .. } => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::IdempotencyConflict | ServiceError::StateConflict { .. } => {
                StatusCode::CONFLICT
            }
            ServiceError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Validation(_) | ServiceError::CommentRejected(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ServiceError::Internal(cause) = self {
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
            ServiceError::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ServiceError::Unauthorized => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            _ => {}
        }
        response.json(self.body())
    }
}
