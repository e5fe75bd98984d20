//! What every request handler and service function can reach: the one `AppState` of a process.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::{DatabaseConnection, DbErr};

use crate::cache::{ArticleRows, MAX_ARTICLES, MAX_TOPICS, PageCache, TopicArticles, TopicRows};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{WriteGate, WriteTxn};
use crate::domain::action_link::ActionLinkSigner;
use crate::jobs::Jobs;
use crate::live::Live;
use crate::moderation::live::LiveRules;
use crate::service::post_queue::PostQueue;
use crate::store::pages::PageSource;

/// The state of one process, in groups: the database (the pool, where pages are read, and the
/// turns of this process's writers), the caches, the deliveries (mail, webhooks and the jobs
/// that send them), the content rules, the clock and the settings. Handlers and services reach
/// it through the accessors below.
pub struct AppState {
    db: Database,
    caches: Caches,
    jobs: Jobs,
    signer: ActionLinkSigner,
    /// The content rules in force (see `moderation::live`).
    rules: LiveRules,
    /// Where every rule reads `now`.
    clock: Clock,
    settings: Arc<Settings>,
    metrics: PrometheusHandle,
    /// New comments go to this process's batch writer (see `service::post_batches`).
    posts: PostQueue,
    /// The live streams of the discussions this process's readers follow.
    live: Arc<Live>,
}

/// The database as a process reaches it.
pub struct Database {
    pub pool: DatabaseConnection,
    /// Where pages of comments are read (see `store::pages`).
    pub pages: PageSource,
    /// Writers of this process take turns on SQLite (see `db::begin_write`).
    pub write_gate: WriteGate,
}

/// What a process keeps of what it read, each for up to a second (see `cache`).
pub struct Caches {
    pub pages: PageCache,
    pub topic_articles: TopicArticles,
    pub topic_rows: TopicRows,
    pub article_rows: ArticleRows,
    /// How many cached pages may be refreshed in the background at once.
    pub refresh_permits: Arc<tokio::sync::Semaphore>,
}

impl Caches {
    /// Empty caches; the page cache holds at most `page_bytes`.
    pub fn new(page_bytes: usize) -> Caches {
        Caches {
            pages: PageCache::new(page_bytes),
            topic_articles: TopicArticles::new(MAX_TOPICS),
            topic_rows: TopicRows::new(MAX_TOPICS),
            article_rows: ArticleRows::new(MAX_ARTICLES),
            refresh_permits: Arc::new(tokio::sync::Semaphore::new(8)),
        }
    }
}

/// What a process's state is made of (see [`AppState::new`]).
pub struct Parts {
    pub db: Database,
    pub caches: Caches,
    pub jobs: Jobs,
    pub signer: ActionLinkSigner,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    pub posts: PostQueue,
    pub live: Arc<Live>,
}

impl AppState {
    pub fn new(parts: Parts) -> AppState {
        AppState {
            db: parts.db,
            caches: parts.caches,
            jobs: parts.jobs,
            signer: parts.signer,
            rules: LiveRules::default(),
            clock: parts.clock,
            settings: parts.settings,
            metrics: parts.metrics,
            posts: parts.posts,
            live: parts.live,
        }
    }

    /// The main pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db.pool
    }

    /// Where pages of comments are read.
    pub fn page_source(&self) -> &PageSource {
        &self.db.pages
    }

    /// The turns of this process's writers (SQLite).
    pub fn write_gate(&self) -> &WriteGate {
        &self.db.write_gate
    }

    /// Begins a transaction that writes, in this process's turn (see `db::begin_write`).
    pub async fn begin_write(&self) -> Result<WriteTxn, DbErr> {
        crate::db::begin_write(&self.db.pool, &self.db.write_gate).await
    }

    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    /// The jobs of this process: mail and webhook deliveries, reminders, closing, purging.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Signs and checks the links in moderators' emails.
    pub fn signer(&self) -> &ActionLinkSigner {
        &self.signer
    }

    pub fn rules(&self) -> &LiveRules {
        &self.rules
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    pub fn metrics(&self) -> &PrometheusHandle {
        &self.metrics
    }

    pub fn posts(&self) -> &PostQueue {
        &self.posts
    }

    pub fn live(&self) -> &Arc<Live> {
        &self.live
    }

    /// Forgets what this process has cached about an article's comments (a write happened):
    /// its pages, and its row, whose comment count the pages and `?ids=` show. The live
    /// streams are told to look for the change.
    pub fn invalidate_article(&self, article_id: &str) {
        self.forget_article(article_id, false);
        self.live.wake();
    }

    /// Forgets what this process has cached about an article: its pages and row, and with
    /// `listed` the topics' newest articles too (its discussion was closed or reopened).
    pub fn forget_article(&self, article_id: &str, listed: bool) {
        self.caches.pages.invalidate(article_id);
        self.caches.article_rows.forget(article_id);
        if listed {
            self.caches.topic_articles.clear();
        }
    }

    /// Where changes record their events for the website (nowhere without `WEBHOOK_URL`).
    pub fn events(&self) -> crate::events::Events {
        self.jobs.events.recording()
    }

    /// Forgets what this process has cached about an article and the topics that may list it
    /// (the article was registered, changed, closed or reopened here).
    pub fn article_changed(&self, article_id: &str) {
        self.forget_article(article_id, true);
        self.live.wake();
    }

    /// Forgets the cached topic rows and the topics' newest articles (a topic changed here).
    pub fn invalidate_topics(&self) {
        self.caches.topic_rows.clear();
        self.caches.topic_articles.clear();
    }
}
