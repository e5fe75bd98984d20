use sea_orm::entity::prelude::*;

/// A moderator signed in to the console. The cookie's value is never stored, only its SHA-256.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// The name of the moderator's token (what the audit log records).
    pub moderator: String,
    /// The form token every POST of this session carries.
    pub csrf: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
