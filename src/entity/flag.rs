use sea_orm::entity::prelude::*;

use crate::domain::states::FlagReason;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub comment_id: i64,
    pub reporter_id: String,
    pub reason: FlagReason,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    /// Where a notice's reporter may be reached.
    pub reporter_email: Option<String>,
    /// The law a notice names.
    pub legal_reference: Option<String>,
    /// The decision that resolved the flag (what the reporter is told).
    pub decision_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
