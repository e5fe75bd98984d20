//! Everything that happened to one comment: its flags, decisions and appeals.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{appeal, decision, flag};

/// The most of each kind of record a comment's history shows (the newest).
pub const MOST: u64 = 200;

/// A comment's records, each kind oldest first.
pub struct History {
    pub flags: Vec<flag::Model>,
    pub decisions: Vec<decision::Model>,
    pub appeals: Vec<appeal::Model>,
}

pub async fn of(db: &impl ConnectionTrait, comment_id: i64) -> Result<History, DbErr> {
    let flags = flag::Entity::find()
        .filter(flag::Column::CommentId.eq(comment_id))
        .order_by_desc(flag::Column::Id)
        .limit(MOST)
        .all(db)
        .await?;
    let decisions = decision::Entity::find()
        .filter(decision::Column::CommentId.eq(comment_id))
        .order_by_desc(decision::Column::Id)
        .limit(MOST)
        .all(db)
        .await?;
    let appeals = appeal::Entity::find()
        .filter(appeal::Column::CommentId.eq(comment_id))
        .order_by_desc(appeal::Column::Id)
        .limit(MOST)
        .all(db)
        .await?;
    Ok(History {
        flags: oldest_first(flags),
        decisions: oldest_first(decisions),
        appeals: oldest_first(appeals),
    })
}

fn oldest_first<T>(mut newest_first: Vec<T>) -> Vec<T> {
    newest_first.reverse();
    newest_first
}
