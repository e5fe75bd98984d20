//! What every request handler and service function can reach: the one `AppState` of a process.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::cache::{ArticleRows, PageCache, TopicArticles, TopicRows};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::WriteGate;
use crate::domain::action_link::ActionLinkSigner;
use crate::jobs::Jobs;

pub struct AppState {
    pub db: DatabaseConnection,
    /// Where pages of comments are read (see `store::pages`).
    pub page_source: crate::store::pages::PageSource,
    pub settings: Arc<Settings>,
    /// Where every rule reads `now`.
    pub clock: Clock,
    /// Writers of this process take turns on SQLite (see `db::begin_write`).
    pub write_gate: WriteGate,
    pub jobs: Jobs,
    pub signer: ActionLinkSigner,
    pub pages: PageCache,
    pub topic_articles: TopicArticles,
    pub topic_rows: TopicRows,
    pub article_rows: ArticleRows,
    /// How many cached pages may be refreshed in the background at once.
    pub refresh_permits: Arc<tokio::sync::Semaphore>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// The content rules in force (see `moderation::live`).
    pub rules: crate::moderation::live::LiveRules,
    /// New comments go to this process's batch writer (see `service::post_batches`).
    pub posts: crate::service::post_queue::PostQueue,
}

impl AppState {
    /// Forgets what this process has cached about an article's comments (a write happened):
    /// its pages, and its row, whose comment count the pages and `?ids=` show.
    pub fn invalidate_article(&self, article_id: &str) {
        self.pages.invalidate(article_id);
        self.article_rows.forget(article_id);
    }

    /// Where changes record their events for the website (nowhere without `WEBHOOK_URL`).
    pub fn events(&self) -> crate::events::Events {
        self.jobs.events.recording()
    }

    /// Forgets what this process has cached about an article and the topics that may list it
    /// (the article was registered, changed, closed or reopened here).
    pub fn article_changed(&self, article_id: &str) {
        self.pages.invalidate(article_id);
        self.article_rows.forget(article_id);
        self.topic_articles.clear();
    }

    /// Forgets the cached topic rows and the topics' newest articles (a topic changed here).
    pub fn invalidate_topics(&self) {
        self.topic_rows.clear();
        self.topic_articles.clear();
    }
}
