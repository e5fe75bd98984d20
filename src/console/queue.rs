//! The queue, in the order of `GET /api/v1/moderation/queue`, one tab per kind of item, with
//! keyset pages of 50 and the count of every tab (`/console/counts` for the page's script).

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::ConsoleError;
use super::form::{self, FormValues};
use super::pages::{remaining, render};
use super::session::SignedIn;
use crate::api::moderation::{queue_cursor, queue_items, queue_position};
use crate::api::pagination;
use crate::domain::states::{FlagReason, QueueKind};
use crate::entity::author;
use crate::state::AppState;
use crate::store::flags::FlagSummary;
use crate::store::{find_by_keys, moderation};

/// Items on a page.
const PAGE_SIZE: u64 = 50;

/// The tabs: their name in the URL, the queue kind they list, their German title.
const TABS: [(&str, QueueKind, &str); 4] = [
    ("notices", QueueKind::Illegal, "Rechtswidrig gemeldet"),
    ("held", QueueKind::Held, "Zurückgehalten"),
    ("flagged", QueueKind::Flagged, "Gemeldet"),
    ("appeals", QueueKind::Appeal, "Einsprüche"),
];

/// The name of a tab as a form sent it (the first tab for anything else).
pub fn tab_name(raw: Option<&str>) -> &'static str {
    TABS.iter()
        .find(|(name, _, _)| Some(*name) == raw)
        .map_or(TABS[0].0, |(name, _, _)| name)
}

async fn tab_counts(state: &AppState) -> Result<Vec<i64>, ConsoleError> {
    let kinds: Vec<QueueKind> = TABS.iter().map(|(_, kind, _)| *kind).collect();
    Ok(moderation::queue_counts(state.db(), &kinds).await?)
}

/// The count of each tab, as JSON (`{"notices": 1, "held": 0, ...}`).
pub async fn counts(
    state: web::Data<AppState>,
    _signed_in: SignedIn,
) -> Result<HttpResponse, ConsoleError> {
    let counts = tab_counts(&state).await?;
    let body: BTreeMap<&str, i64> = TABS.iter().map(|t| t.0).zip(counts).collect();
    let mut response = HttpResponse::Ok().json(body);
    super::pages::secure_headers(&mut response);
    Ok(response)
}

#[derive(Deserialize)]
pub struct QueueQuery {
    tab: Option<String>,
    cursor: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let counts = tab_counts(&state).await?;
    let tab = match query.tab.as_deref() {
        Some(raw) => TABS
            .iter()
            .position(|(name, _, _)| *name == raw)
            .ok_or(ConsoleError::NotFound)?,
        None => counts.iter().position(|n| *n > 0).unwrap_or(0),
    };
    let after = query.cursor.as_deref().map(queue_position).transpose()?;
    let rows = moderation::queue(state.db(), TABS[tab].1, after, PAGE_SIZE + 1).await?;
    let (rows, more) = pagination::split(rows, PAGE_SIZE);
    let next_cursor = if more {
        rows.last().map(queue_cursor)
    } else {
        None
    };
    let mut author_ids: Vec<String> = rows.iter().map(|c| c.author_id.clone()).collect();
    author_ids.sort();
    author_ids.dedup();
    let authors: HashMap<String, author::Model> =
        find_by_keys::<author::Entity>(state.db(), author::Column::Id, &author_ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
    let now = state.clock().now();
    let queued = queue_items(&state, rows.clone()).await?;
    let items: Vec<_> = rows
        .iter()
        .zip(queued)
        .map(|(row, item)| {
            let view = serde_json::to_value(&item).unwrap_or_default();
            let summary = FlagSummary {
                by_reason: reasons_of(&view["flags"]["by_reason"]),
                ..FlagSummary::default()
            };
            context! {
                id => row.id,
                item => view,
                remaining => row.due_at.map(|due| remaining(now, due)),
                created_at => super::pages::local_time(&state, row.created_at),
                author => authors.get(&row.author_id).map(super::comment::author_view),
                form => FormValues::suggested(row, &summary),
            }
        })
        .collect();
    let tabs: Vec<_> = TABS
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, ((name, _, title), count))| {
            context! { name, title, count, current => i == tab }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        "queue.html",
        context! {
            title => "Warteschlange",
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "queue",
            tab => TABS[tab].0,
            tab_title => TABS[tab].2,
            tabs,
            items,
            next_cursor,
            labels => form::labels(),
        },
    ))
}

/// The reasons and counts of a queue item's `flags.by_reason`.
fn reasons_of(by_reason: &serde_json::Value) -> BTreeMap<FlagReason, u32> {
    by_reason
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(r, n)| Some((r.parse().ok()?, u32::try_from(n.as_u64()?).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}
