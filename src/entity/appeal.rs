use sea_orm::entity::prelude::*;

use crate::domain::states::AppealStatus;

/// An author contests a decision that restricted their comment.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub comment_id: i64,
    /// The contested decision (one appeal per decision).
    pub decision_id: i64,
    pub author_id: String,
    pub text: String,
    pub status: AppealStatus,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
