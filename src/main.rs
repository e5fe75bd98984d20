//! `comment-service [serve|migrate|jobs run NAME]`.

use std::ffi::OsStr;
use std::process::ExitCode;

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Parser, Subcommand, ValueEnum};
use comment_service::config::Settings;
use comment_service::jobs::{JobName, RunOutcome};

#[derive(Parser)]
#[command(
    name = "comment-service",
    version,
    about = "Comment threads for a news website"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run pending migrations, then serve the API and run the scheduled jobs (the default).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Fill the database with generated articles and comments (for benchmarks).
    Generate {
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
    },
    /// Scheduled jobs.
    Jobs {
        #[command(subcommand)]
        action: JobsCommand,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run one job once and print a one-line summary.
    Run {
        /// The job to run.
        #[arg(value_parser = JobNameParser)]
        name: JobName,
    },
}

/// clap's parser of [`JobName`], which refuses an unknown name with the names of all jobs.
#[derive(Clone)]
struct JobNameParser;

impl TypedValueParser for JobNameParser {
    type Value = JobName;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<JobName, clap::Error> {
        EnumValueParser::<JobName>::new()
            .parse_ref(cmd, arg, value)
            .map_err(|_| {
                let names: Vec<&str> = JobName::ALL.iter().map(|j| j.as_str()).collect();
                let message = format!(
                    "unknown job `{}`; jobs are {}\n",
                    value.to_string_lossy(),
                    names.join(", ")
                );
                clap::Error::raw(ErrorKind::InvalidValue, message).with_cmd(cmd)
            })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let names = JobName::value_variants().iter();
        Some(Box::new(names.filter_map(ValueEnum::to_possible_value)))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("comment-service: {e}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = comment_service::telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Jobs {
            action: JobsCommand::Run { name },
        } => run_job(settings, name).await,
        Command::Generate {
            articles,
            comments,
            topics,
            big,
            flags,
        } => {
            generate(
                settings,
                comments_service_plan(articles, comments, topics, big, flags),
            )
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "comment-service failed");
            eprintln!("comment-service: {e}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn serve(settings: Settings) -> Result<(), AnyError> {
    let app = comment_service::startup::Application::build(settings).await?;
    app.run_until_signal().await?;
    Ok(())
}

async fn migrate(settings: Settings) -> Result<(), AnyError> {
    let db = comment_service::db::connect(&settings).await?;
    comment_service::db::migrate(&db).await?;
    db.close().await?;
    println!("migrations applied");
    Ok(())
}

fn comments_service_plan(
    articles: u64,
    comments: u64,
    topics: u64,
    big: u64,
    flags: u64,
) -> comment_service::generate::Plan {
    comment_service::generate::Plan {
        articles,
        comments,
        topics,
        big,
        flags,
    }
}

async fn generate(
    settings: Settings,
    plan: comment_service::generate::Plan,
) -> Result<(), AnyError> {
    let db = comment_service::db::connect(&settings).await?;
    comment_service::db::migrate(&db).await?;
    let started = std::time::Instant::now();
    let done = comment_service::generate::run(
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

async fn run_job(settings: Settings, job: JobName) -> Result<(), AnyError> {
    let db = comment_service::db::connect(&settings).await?;
    comment_service::db::migrate(&db).await?;
    let jobs = comment_service::startup::jobs_for(db.clone(), settings).await?;
    match jobs.run(job).await? {
        RunOutcome::Done(n) => match job {
            JobName::CloseExpired => println!("close-expired: closed {n} discussions"),
            JobName::DeliverNotifications => {
                println!("deliver-notifications: sent {n} notifications")
            }
            JobName::DeliverEvents => println!("deliver-events: delivered {n} events"),
            JobName::Purge => println!("purge: removed {n} records past retention"),
            JobName::SendReminders => println!("send-reminders: queued {n} reminders"),
        },
        RunOutcome::Busy => println!("{}: skipped, another run is in progress", job.as_str()),
    }
    db.close().await?;
    Ok(())
}
