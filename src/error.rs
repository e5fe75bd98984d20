//! The outcomes a service can end in besides success, as one error type: what the request asked
//! for that the rules refuse, and what failed. `api::error` maps each to its HTTP status and the
//! contract's JSON shape.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
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
    /// The process cannot take this request now (it has as many live streams as it may hold).
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// One field broke a rule.
    pub fn field(name: &str, reason: impl Into<String>) -> ServiceError {
        ServiceError::Validation(BTreeMap::from([(name.to_string(), reason.into())]))
    }

    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ServiceError {
        ServiceError::Internal(Box::new(e))
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

    pub fn into_result(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Validation(self.0))
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(e: sea_orm::DbErr) -> Self {
        ServiceError::Internal(Box::new(e))
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<sea_orm::TransactionError<E>>
    for ServiceError
where
    ServiceError: From<E>,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}
