//! sea-orm entities, one file per table (the schema itself lives in the `migration` crate).

pub mod appeal;
pub mod article;
pub mod author;
pub mod author_note;
pub mod comment;
pub mod console_session;
pub mod decision;
pub mod event;
pub mod flag;
pub mod idempotency_key;
pub mod moderation_log;
pub mod moderation_rules;
pub mod notification;
pub mod topic;
pub mod used_action_token;
