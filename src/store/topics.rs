//! Topics: the "Themenübersicht" pages readers are pointed to.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

use super::Inserted;
use crate::entity::topic;

pub async fn find(db: &impl ConnectionTrait, slug: &str) -> Result<Option<topic::Model>, DbErr> {
    topic::Entity::find_by_id(slug.to_string()).one(db).await
}

/// Creates or updates a topic; `true` when it was created.
pub async fn upsert(
    db: &impl ConnectionTrait,
    slug: &str,
    name: &str,
    overview_url: &str,
    now: DateTime<Utc>,
) -> Result<(topic::Model, bool), DbErr> {
    if let Some(existing) = find(db, slug).await? {
        return Ok((update(db, existing, name, overview_url, now).await?, false));
    }
    let inserted = topic::ActiveModel {
        slug: Set(slug.to_string()),
        name: Set(name.to_string()),
        overview_url: Set(overview_url.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    match super::created_or_existing(inserted, find(db, slug)).await? {
        Inserted::Created(created) => Ok((created, true)),
        // A concurrent request created it first: this one is an update.
        Inserted::Existing(existing) => {
            Ok((update(db, existing, name, overview_url, now).await?, false))
        }
    }
}

async fn update(
    db: &impl ConnectionTrait,
    existing: topic::Model,
    name: &str,
    overview_url: &str,
    now: DateTime<Utc>,
) -> Result<topic::Model, DbErr> {
    let mut active: topic::ActiveModel = existing.into();
    active.name = Set(name.to_string());
    active.overview_url = Set(overview_url.to_string());
    active.updated_at = Set(now);
    active.update(db).await
}
