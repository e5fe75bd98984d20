//! The content rules (moderator): read them, replace them.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators};
use crate::auth::Moderator;
use crate::domain::states::Via;
use crate::error::ServiceError;
use crate::moderation::Rules;
use crate::moderation::live::Loaded;
use crate::service::rules;
use crate::state::AppState;
use crate::views::dto::ts_opt;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        Documented::route(__path_get_rules, get_rules)
            .and(__path_put_rules, put_rules)
            // Three lists of up to 10,000 entries do not fit the API's usual 64 KiB.
            .app_data(crate::api::json_config(RULES_MAX_BODY_BYTES)),
    );
}

/// The largest rules body: 4 MiB.
pub const RULES_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The rules in force, with their version.
#[derive(Serialize, ToSchema)]
pub(crate) struct RulesView {
    #[serde(flatten)]
    rules: Rules,
    /// Grows with every change; `0` while the rules were never set (the defaults).
    version: i64,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    updated_at: Option<DateTime<Utc>>,
    /// The moderator who made the last change.
    #[schema(required)]
    updated_by: Option<String>,
}

impl From<&Loaded> for RulesView {
    fn from(loaded: &Loaded) -> RulesView {
        RulesView {
            rules: loaded.rules().clone(),
            version: loaded.version,
            updated_at: loaded.updated_at,
            updated_by: loaded.updated_by.clone(),
        }
    }
}

/// The content rules in force
#[utoipa::path(
    get,
    path = "/moderation/rules",
    tag = "moderation",
    responses(
        (status = 200, description = "The rules in force.", body = RulesView),
        ForModerators,
    ),
)]
async fn get_rules(
    _moderator: Moderator,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ServiceError> {
    let loaded = rules::current(&state).await?;
    Ok(HttpResponse::Ok().json(RulesView::from(&*loaded)))
}

/// Replace the content rules
///
/// The whole object; omitted fields take their defaults. Entries are trimmed and kept once.
/// In force at once on this instance and within a second on every other; audit-logged with
/// what changed (`details`: per list how many entries were added and removed, fields from and to).
#[utoipa::path(
    put,
    path = "/moderation/rules",
    tag = "moderation",
    request_body = Rules,
    responses(
        (status = 200, description = "The rules now in force.", body = RulesView),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape (a list that is not a list of strings, an unknown `links` value, a number that is not one).", body = ErrorBody),
        ForModerators,
        (status = 413, description = "`payload_too_large`: the body is over 4 MiB (this route's limit; three full lists do not fit the API's usual 64 KiB).", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a list over 10,000 entries, an entry that is empty or only `*`, a bad domain, a number out of range.", body = ErrorBody),
    ),
)]
async fn put_rules(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ServiceError> {
    // An object only (serde would also read a list as the fields in order).
    let body = body.into_inner();
    if !body.is_object() {
        return Err(ServiceError::BadRequest(
            "the rules must be a JSON object".into(),
        ));
    }
    let new: Rules = serde_json::from_value(body).map_err(|e| {
        ServiceError::BadRequest(format!("the body is not valid JSON for this request: {e}"))
    })?;
    let loaded = rules::replace(&state, &moderator, Via::Api, new).await?;
    Ok(HttpResponse::Ok().json(RulesView::from(&*loaded)))
}
