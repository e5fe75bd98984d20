use sea_orm::entity::prelude::*;

use crate::domain::states::{Category, DecidedAction, Ground, Via};

/// A decision on a comment with its statement of reasons (what the author is told).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub comment_id: i64,
    pub action: DecidedAction,
    pub ground: Option<Ground>,
    pub category: Option<Category>,
    pub explanation: Option<String>,
    pub legal_reference: Option<String>,
    /// The content rules held the comment; no moderator has decided yet.
    pub automated: bool,
    pub moderator: Option<String>,
    pub via: Option<Via>,
    pub decided_at: DateTimeUtc,
    /// The first of the flags this decision resolved.
    pub first_flag_at: Option<DateTimeUtc>,
    /// The first notice of illegal content among them.
    pub first_notice_at: Option<DateTimeUtc>,
    /// The appeal this decision decided.
    pub appeal_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
