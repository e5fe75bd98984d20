//! How the services' outcomes answer over HTTP: each [`ApiError`] as its status and the
//! contract's one error shape, `{"error": {"code": "...", "message": "...", "details": {...}}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

use crate::error::ApiError;

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
