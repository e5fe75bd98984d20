//! `GET /api/v1/events`: the webhook outbox, for moderators.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators};
use crate::api::pagination::{self, IdPage};
use crate::auth::Moderator;
use crate::domain::states::{EventStatus, EventType};
use crate::entity::event;
use crate::error::ServiceError;
use crate::state::AppState;
use crate::store::events;
use crate::views::dto::{ts, ts_opt};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_list_events, list_events));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventQuery {
    /// Only events in this state; all without.
    #[param(value_type = Option<EventStatus>, required = false)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// An event in the webhook outbox.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventView {
    /// The `webhook-id` the website sees.
    id: String,
    #[serde(rename = "type")]
    event_type: EventType,
    status: EventStatus,
    /// Delivery attempts so far (at most `WEBHOOK_MAX_ATTEMPTS`).
    attempts: i32,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    /// When the next attempt is due; null unless pending.
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    next_attempt_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    delivered_at: Option<DateTime<Utc>>,
    #[schema(required)]
    last_error: Option<String>,
    /// The event's `data`, as sent.
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

impl From<event::Model> for EventView {
    fn from(e: event::Model) -> EventView {
        let data = serde_json::from_str::<serde_json::Value>(&e.payload)
            .ok()
            .and_then(|body| body.get("data").cloned())
            .unwrap_or(serde_json::Value::Null);
        EventView {
            next_attempt_at: (e.status == EventStatus::Pending).then_some(e.next_attempt_at),
            id: e.event_id,
            event_type: e.event_type,
            status: e.status,
            attempts: e.attempts,
            created_at: e.created_at,
            delivered_at: e.delivered_at,
            last_error: e.last_error,
            data,
        }
    }
}

/// A page of the webhook outbox, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventPage {
    events: Vec<EventView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// The events sent to the website, newest first
#[utoipa::path(
    get,
    path = "/events",
    tag = "moderation",
    params(EventQuery),
    responses(
        (status = 200, description = "A page of the webhook outbox.", body = EventPage),
        (status = 400, description = "`bad_request`: a cursor this list did not give out.", body = ErrorBody),
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad status or limit.", body = ErrorBody),
    ),
)]
async fn list_events(
    _moderator: Moderator,
    state: web::Data<AppState>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ServiceError> {
    let status = pagination::delivery_status::<EventStatus>(query.status.as_deref())?;
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "e")?;
    let rows = events::list(state.db(), status, page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.id);
    Ok(HttpResponse::Ok().json(EventPage {
        events: rows.into_iter().map(EventView::from).collect(),
        next_cursor,
    }))
}
