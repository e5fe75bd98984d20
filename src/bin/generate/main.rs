//! `generate`: fills a database with articles and comments quickly (multi-row inserts in large
//! transactions), for benchmarks and load tests. It reads the service's settings from the
//! environment (`DATABASE_URL`, and the lifecycle settings that decide which discussions are
//! closed) and applies pending migrations first.

mod articles;
mod flags;
mod sql;

use std::process::ExitCode;

use clap::Parser;
use comment_service::config::Settings;

/// Fill the database with generated articles and comments (for benchmarks).
#[derive(Parser)]
#[command(name = "generate", version)]
struct Cli {
    /// Number of articles.
    #[arg(long, default_value_t = 10_000)]
    articles: u64,
    /// Number of comments, spread evenly over the articles.
    #[arg(long, default_value_t = 1_000_000)]
    comments: u64,
    /// Number of topics.
    #[arg(long, default_value_t = 20)]
    topics: u64,
    /// Comments of one extra article `gen-big` (taken from --comments), for deep pages.
    #[arg(long, default_value_t = 0)]
    big: u64,
    /// Flags spread over the last year on the generated comments, with decisions, appeals
    /// and audit-log entries (for the transparency report).
    #[arg(long, default_value_t = 0)]
    flags: u64,
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (settings, _log_guard) = match comment_service::startup::settings_and_logs("generate") {
        Ok(started) => started,
        Err(code) => return code,
    };
    let plan = articles::Plan {
        articles: cli.articles,
        comments: cli.comments,
        topics: cli.topics,
        big: cli.big,
        flags: cli.flags,
    };
    match generate(settings, plan).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "generate failed");
            eprintln!("generate: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn generate(settings: Settings, plan: articles::Plan) -> Result<(), AnyError> {
    let db = comment_service::db::connect(&settings).await?;
    comment_service::db::migrate(&db).await?;
    let started = std::time::Instant::now();
    let done = articles::run(
        &db,
        &settings,
        plan,
        comment_service::clock::Clock::system().now(),
    )
    .await?;
    db.close().await?;
    println!(
        "generated {} articles and {} comments in {:.1} s",
        done.articles,
        done.comments,
        started.elapsed().as_secs_f64()
    );
    if let Some(f) = done.flags {
        println!(
            "generated {} flags, {} decisions, {} appeals and {} audit-log entries",
            f.flags, f.decisions, f.appeals, f.log_entries
        );
    }
    if let Some(cursor) = done.deep_cursor {
        println!("deep cursor (10,000 pages into gen-big): {cursor}");
    }
    Ok(())
}
