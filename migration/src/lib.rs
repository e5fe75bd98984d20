//! The database schema of comment-service, as sea-orm migrations.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_schema;
mod m20261128_000002_visible_counts;
mod m20261128_000003_top_level_index;
mod m20261128_000004_outbox_leases;
mod m20261128_000005_decision_rounds;
mod m20261128_000008_events;
mod m20261128_000009_authors_rules;
mod m20261128_000010_legal_duties;
mod m20261128_000011_report_indexes;
mod m20261128_000012_author_counts;
mod m20261128_000013_count_shards;
mod m20261203_000014_idempotency_author;
mod m20261203_000015_console_sessions;
mod m20261203_000016_notes_article_settings;
mod m20261203_000017_comments_by_article_status;
mod m20261203_000018_open_queue_index;
mod m20261203_000020_live_events;
mod m20261203_000021_reactions;
mod m20261203_000022_featured;
mod m20261203_000023_live_reactions;
mod m20261204_000025_author_badges;
mod util;

pub use m20261128_000009_authors_rules::AUTHORS_FROM_COMMENTS;
pub use m20261203_000018_open_queue_index::OPEN_QUEUE;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_schema::Migration),
            Box::new(m20261128_000002_visible_counts::Migration),
            Box::new(m20261128_000003_top_level_index::Migration),
            Box::new(m20261128_000004_outbox_leases::Migration),
            Box::new(m20261128_000005_decision_rounds::Migration),
            Box::new(m20261128_000008_events::Migration),
            Box::new(m20261128_000009_authors_rules::Migration),
            Box::new(m20261128_000010_legal_duties::Migration),
            Box::new(m20261128_000011_report_indexes::Migration),
            Box::new(m20261128_000012_author_counts::Migration),
            Box::new(m20261128_000013_count_shards::Migration),
            Box::new(m20261203_000014_idempotency_author::Migration),
            Box::new(m20261203_000015_console_sessions::Migration),
            Box::new(m20261203_000016_notes_article_settings::Migration),
            Box::new(m20261203_000017_comments_by_article_status::Migration),
            Box::new(m20261203_000018_open_queue_index::Migration),
            Box::new(m20261203_000020_live_events::Migration),
            Box::new(m20261203_000021_reactions::Migration),
            Box::new(m20261203_000022_featured::Migration),
            Box::new(m20261203_000023_live_reactions::Migration),
            Box::new(m20261204_000025_author_badges::Migration),
        ]
    }
}
