//! Decisions with their statements of reasons, and the appeals against them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::db::execute;
use crate::domain::statement::Statement;
use crate::domain::states::{AppealStatus, Category, DecidedAction, Ground, Via};
use crate::entity::{appeal, decision};

/// A decision to record.
pub struct NewDecision<'a> {
    pub comment_id: i64,
    pub action: DecidedAction,
    pub statement: Option<&'a Statement>,
    /// For an automated hold, which has no moderator's statement.
    pub automated: Option<(Category, &'a str)>,
    pub moderator: Option<&'a str>,
    pub via: Option<Via>,
    pub first_flag_at: Option<DateTime<Utc>>,
    pub first_notice_at: Option<DateTime<Utc>>,
    pub appeal_id: Option<i64>,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewDecision<'_>,
    now: DateTime<Utc>,
) -> Result<decision::Model, DbErr> {
    let (ground, category, explanation, legal_reference) = match (new.statement, new.automated) {
        (Some(s), _) => (
            Some(s.ground),
            Some(s.category),
            s.explanation.clone(),
            s.legal_reference.clone(),
        ),
        (None, Some((category, explanation))) => (
            Some(Ground::Terms),
            Some(category),
            Some(explanation.to_string()),
            None,
        ),
        (None, None) => (None, None, None, None),
    };
    decision::ActiveModel {
        id: NotSet,
        comment_id: Set(new.comment_id),
        action: Set(new.action),
        ground: Set(ground),
        category: Set(category),
        explanation: Set(explanation),
        legal_reference: Set(legal_reference),
        automated: Set(new.automated.is_some()),
        moderator: Set(new.moderator.map(str::to_string)),
        via: Set(new.via),
        decided_at: Set(now),
        first_flag_at: Set(new.first_flag_at),
        first_notice_at: Set(new.first_notice_at),
        appeal_id: Set(new.appeal_id),
    }
    .insert(db)
    .await
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<decision::Model>, DbErr> {
    decision::Entity::find_by_id(id).one(db).await
}

/// The latest decision that restricted the comment (hide, delete, or an automated hold).
pub async fn latest_restricting(
    db: &impl ConnectionTrait,
    comment_id: i64,
) -> Result<Option<decision::Model>, DbErr> {
    decision::Entity::find()
        .filter(decision::Column::CommentId.eq(comment_id))
        .filter(decision::Column::Action.is_in([
            DecidedAction::Hide,
            DecidedAction::Delete,
            DecidedAction::Hold,
        ]))
        .order_by_desc(decision::Column::Id)
        .one(db)
        .await
}

/// The appeal against a decision, if there is one.
pub async fn appeal_of(
    db: &impl ConnectionTrait,
    decision_id: i64,
) -> Result<Option<appeal::Model>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::DecisionId.eq(decision_id))
        .one(db)
        .await
}

/// The comment's open appeal, if any.
pub async fn open_appeal(
    db: &impl ConnectionTrait,
    comment_id: i64,
) -> Result<Option<appeal::Model>, DbErr> {
    appeal::Entity::find()
        .filter(appeal::Column::CommentId.eq(comment_id))
        .filter(appeal::Column::Status.eq(AppealStatus::Open))
        .order_by_desc(appeal::Column::Id)
        .one(db)
        .await
}

/// Files an appeal (the caller checked it may be filed); the comment is in the queue until it
/// is decided.
pub async fn insert_appeal(
    db: &impl ConnectionTrait,
    comment_id: i64,
    decision_id: i64,
    author_id: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<appeal::Model, DbErr> {
    let appeal = appeal::ActiveModel {
        id: NotSet,
        comment_id: Set(comment_id),
        decision_id: Set(decision_id),
        author_id: Set(author_id.to_string()),
        text: Set(text.to_string()),
        status: Set(AppealStatus::Open),
        created_at: Set(now),
        decided_at: Set(None),
        decided_by: Set(None),
    }
    .insert(db)
    .await?;
    execute(
        db,
        "UPDATE comments SET appeal_open = $1 WHERE id = $2",
        [true.into(), comment_id.into()],
    )
    .await?;
    Ok(appeal)
}

/// Records an appeal's outcome.
pub async fn decide_appeal(
    db: &impl ConnectionTrait,
    appeal_id: i64,
    outcome: AppealStatus,
    moderator: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    execute(
        db,
        "UPDATE appeals SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4",
        [
            outcome.as_str().into(),
            now.into(),
            moderator.into(),
            appeal_id.into(),
        ],
    )
    .await?;
    Ok(())
}
