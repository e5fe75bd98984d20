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
    let (settings, _log_guard) =
        match comment_service::startup::settings_and_logs("comment-service") {
            Ok(started) => started,
            Err(code) => return code,
        };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Jobs {
            action: JobsCommand::Run { name },
        } => run_job(settings, name).await,
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
