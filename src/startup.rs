//! Building the application: database, state, HTTP server, scheduler; and its graceful stop.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;

use secrecy::ExposeSecret as _;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::action_link::ActionLinkSigner;
use crate::events::sender::WebhookSender;
use crate::jobs::deliver_events::EventDeliverer;
use crate::jobs::{JobName, Scheduler};
use crate::state::AppState;

/// A built application: bound to its port, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    scheduler: Option<Scheduler>,
    state: web::Data<AppState>,
}

/// How long a stop waits for running requests and jobs.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

impl Application {
    /// Connects, migrates, binds `BIND_ADDR` (port 0 picks a free port) and starts the scheduler.
    pub async fn build(
        settings: Settings,
    ) -> Result<Application, Box<dyn std::error::Error + Send + Sync>> {
        Application::build_with_clock(settings, Clock::system()).await
    }

    /// Like `build`, with the given clock (tests pass one they move).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Clock,
    ) -> Result<Application, Box<dyn std::error::Error + Send + Sync>> {
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        Application::build_with(settings, db, clock).await
    }

    /// Builds on a connected, migrated database with the given clock (tests pass one they move).
    pub async fn build_with(
        settings: Settings,
        db: DatabaseConnection,
        clock: Clock,
    ) -> Result<Application, Box<dyn std::error::Error + Send + Sync>> {
        let listener = TcpListener::bind(&settings.http.bind_addr)?;
        let port = listener.local_addr()?.port();
        let settings = Arc::new(settings);
        if settings.api_tokens.is_empty() {
            tracing::warn!("API_TOKENS is not set: every /api/v1 call will be refused with 401");
        }
        let signer = action_link_signer(&settings, &db, clock.now()).await?;
        let db_backend = sea_orm::ConnectionTrait::get_database_backend(&db);
        crate::db::spawn_checkpoints(&db);
        let owner = lease_owner(&settings.http.bind_addr, listener.local_addr()?);
        let jobs = build_jobs(
            db.clone(),
            settings.clone(),
            clock.clone(),
            signer.clone(),
            owner,
        )?;
        spawn_wake_loops(&jobs);
        let tokens = web::Data::new(settings.api_tokens.clone());
        let (posts, post_receiver) = crate::service::post_queue::queue();
        let lists_db = crate::db::connect_lists(&settings, &db).await?;
        let page_source = crate::store::pages::PageSource::for_database(
            settings.database.url.expose_secret(),
            &lists_db,
            crate::db::POSTGRES_ACQUIRE_TIMEOUT,
        );
        let state = web::Data::new(AppState::new(crate::state::Parts {
            db: crate::state::Database {
                pool: db,
                pages: page_source,
                write_gate: crate::db::WriteGate::for_backend(db_backend),
            },
            caches: crate::state::Caches::new(settings.http.page_cache_mb as usize * 1024 * 1024),
            jobs: jobs.clone(),
            signer,
            clock,
            settings: settings.clone(),
            metrics: crate::metrics::handle(),
            posts,
            live: crate::live::Live::new(settings.live.max_subscribers),
        }));
        state
            .live()
            .start_at(crate::store::live::newest(state.db()).await?);
        tokio::spawn(crate::live::pump::run(Arc::downgrade(
            &state.clone().into_inner(),
        )));
        if db_backend == sea_orm::DbBackend::Postgres {
            tokio::spawn(crate::live::listen::run(
                state.db().clone(),
                state.live().clone(),
            ));
        }
        tokio::spawn(crate::service::post_batches::run(
            post_receiver,
            Arc::downgrade(&state.clone().into_inner()),
        ));
        tokio::spawn(crate::service::article_views::refresh_article_rows(
            Arc::downgrade(&state.clone().into_inner()),
        ));
        // The content rules are compiled before the first request needs them.
        state.rules().get(state.db(), state.clock().now()).await?;
        state.jobs().count_outbox().await;
        let scheduler = Scheduler::start(jobs, &settings.schedules).await?;
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            crate::api::app(
                App::new()
                    .app_data(app_state.clone())
                    .app_data(tokens.clone()),
            )
            .wrap(
                actix_web::middleware::ErrorHandlers::new()
                    .default_handler(crate::api::error_shape),
            )
            .wrap(actix_web::middleware::from_fn(crate::telemetry::access_log))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .run();
        tracing::info!(
            port,
            database = %settings.database.url,
            "comment-service listening"
        );
        Ok(Application {
            port,
            server,
            scheduler: Some(scheduler),
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle that stops the server gracefully (what SIGTERM does).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through its handle.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(scheduler) = self.scheduler.take() {
            scheduler.stop(SHUTDOWN_GRACE).await;
        }
        self.state.jobs().deliver.mailer().shutdown().await;
        // Closing the pool lets SQLite checkpoint its write-ahead log into the database file.
        if let Err(e) = self.state.db().close_by_ref().await {
            tracing::warn!(error = %e, "closing the database pool failed");
        }
        result
    }

    /// Serves until SIGTERM or Ctrl-C, then stops accepting requests, lets running requests and the
    /// running job finish (bounded), stops the scheduler and returns.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.handle();
        let live = self.state.live().clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received: finishing running requests and jobs");
            // Open live streams would hold the graceful stop to its end: they end now, and
            // readers' browsers reconnect to another replica.
            live.shut_down();
            handle.stop(true).await;
        });
        let result = self.run_until_stopped().await;
        tracing::info!("comment-service stopped");
        result
    }
}

/// The signer of action links: keyed with `ACTION_LINK_SECRET`, or else with the secret kept in the
/// database (generated by the first process that needed it), so links work on every replica and
/// after restarts.
pub async fn action_link_signer(
    settings: &Settings,
    db: &DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ActionLinkSigner, sea_orm::DbErr> {
    let secret = match &settings.moderation.action_link_secret {
        Some(secret) => secret.expose_secret().to_vec(),
        None => {
            let generated: [u8; 32] = rand::random();
            let stored = crate::store::secrets::get_or_insert(
                db,
                crate::store::secrets::ACTION_LINK_SECRET,
                &generated,
                now,
            )
            .await?;
            tracing::info!(
                "ACTION_LINK_SECRET is not set: action links are signed with the secret kept in the \
                 database (shared by every replica, kept across restarts)"
            );
            stored
        }
    };
    Ok(ActionLinkSigner::new(secret))
}

/// The jobs with the process's one Mailer, for a process that only runs jobs (the CLI).
pub async fn jobs_for(
    db: DatabaseConnection,
    settings: Settings,
) -> Result<crate::jobs::Jobs, Box<dyn std::error::Error + Send + Sync>> {
    let clock = Clock::system();
    let signer = action_link_signer(&settings, &db, clock.now()).await?;
    build_jobs(db, Arc::new(settings), clock, signer, None)
}

/// The name under which a serving process holds outbox leases: this host and the address it is
/// bound to, which no other live process can hold. `None` (random names, nothing recovered) when
/// the host has no name or the port was picked at random.
fn lease_owner(requested: &str, bound: std::net::SocketAddr) -> Option<String> {
    if requested
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|a| a.port() == 0)
    {
        return None;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())?;
    Some(format!("{host}/{bound}"))
}

fn build_jobs(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    clock: Clock,
    signer: crate::domain::action_link::ActionLinkSigner,
    lease_owner: Option<String>,
) -> Result<crate::jobs::Jobs, Box<dyn std::error::Error + Send + Sync>> {
    let mailer = crate::mail::Mailer::from_settings(&settings.mail)?;
    tracing::info!(mail = %mailer.describe(), to = ?settings.mail.to, "notifications to the community team");
    let mut deliverer =
        crate::jobs::deliver_notifications::Deliverer::new(mailer, settings.clone(), signer);
    if let Some(owner) = lease_owner {
        deliverer = deliverer.owned_by(owner);
    }
    let (sender, max_attempts) = match &settings.webhooks {
        Some(w) => {
            install_tls_provider();
            let sender = WebhookSender::new(w.url.clone(), w.key.clone())?;
            tracing::info!(url = %sender.describe(), "events to the website");
            (Some(sender), w.max_attempts)
        }
        None => (None, 0),
    };
    let events = EventDeliverer::new(sender, max_attempts);
    Ok(crate::jobs::Jobs::new(
        db, deliverer, events, clock, settings,
    ))
}

/// What a command-line program starts with: the settings from the environment and the logs they
/// ask for (the guard flushes the logs when dropped). A bad setting is printed as
/// `{program}: {error}` and ends the program with exit code 2.
pub fn settings_and_logs(
    program: &str,
) -> Result<
    (
        Settings,
        Option<tracing_appender::non_blocking::WorkerGuard>,
    ),
    std::process::ExitCode,
> {
    match Settings::from_env() {
        Ok(settings) => {
            let guard = crate::telemetry::init(settings.log_format);
            Ok((settings, guard))
        }
        Err(e) => {
            eprintln!("{program}: {e}");
            Err(std::process::ExitCode::from(2))
        }
    }
}

/// Makes ring the process's TLS provider for HTTP clients (the one lettre uses); harmless when
/// one is installed already.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Sends new notifications and events right away instead of at the next scheduled run.
fn spawn_wake_loops(jobs: &crate::jobs::Jobs) {
    let (mail, events) = (jobs.clone(), jobs.clone());
    tokio::spawn(async move {
        loop {
            mail.deliver.woken().await;
            run_soon(&mail, JobName::DeliverNotifications).await;
        }
    });
    tokio::spawn(async move {
        loop {
            events.events.woken().await;
            run_soon(&events, JobName::DeliverEvents).await;
        }
    });
}

/// Runs a job now; a run already in progress may have claimed before the new row committed, so a
/// busy job is retried shortly.
async fn run_soon(jobs: &crate::jobs::Jobs, job: JobName) {
    for _ in 0..20 {
        match jobs.run(job).await {
            Ok(crate::jobs::RunOutcome::Busy) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Ok(crate::jobs::RunOutcome::Done(_)) => break,
            Err(e) => {
                tracing::error!(job = job.as_str(), error = %e, "running a job failed; the scheduled run retries");
                break;
            }
        }
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
