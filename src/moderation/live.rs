//! The rules in force on this process: compiled once per rules version and shared by every
//! worker, re-checked against the database's version at most twice a second by the application's
//! clock, so a change made on another replica is in force here within about a second.
//!
//! A new version is compiled on a blocking thread (a large set takes a while), never on a request
//! worker; until it is ready every request is served the version in force, then it takes over.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use super::{CompiledRules, Rules};
use crate::store;

/// How often the stored version is compared with the one in force.
pub const CHECK_EVERY: StdDuration = StdDuration::from_millis(500);

/// One version of the rules, compiled.
#[derive(Debug, Default)]
pub struct Loaded {
    /// `0`: the defaults (the rules were never set).
    pub version: i64,
    pub compiled: CompiledRules,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

impl Loaded {
    pub fn rules(&self) -> &Rules {
        self.compiled.rules()
    }
}

#[derive(Default)]
pub struct LiveRules {
    current: Arc<RwLock<Arc<Loaded>>>,
    /// When the versions were last compared, by the application's clock.
    checked_at: Mutex<Option<DateTime<Utc>>>,
    /// One task at a time reads and compiles a new version.
    refresh: Arc<tokio::sync::Mutex<()>>,
}

impl LiveRules {
    /// The rules in force at `now`, after comparing versions with the database if the last
    /// comparison is older than [`CHECK_EVERY`] (or lies ahead of `now`: the clock was set back).
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<Arc<Loaded>, DbErr> {
        let checked = *self.checked_at.lock().unwrap_or_else(|e| e.into_inner());
        let fresh =
            |at: DateTime<Utc>| at <= now && (now - at).to_std().is_ok_and(|age| age < CHECK_EVERY);
        match checked {
            Some(at) if fresh(at) => return Ok(self.current()),
            // Checked before: while another task refreshes, the version in force stands.
            // A new version is compiled in the background; this request too is served the
            // version in force.
            Some(_) => match self.refresh.clone().try_lock_owned() {
                Ok(turn) => self.refresh_from(db, now, Some(turn)).await?,
                Err(_) => return Ok(self.current()),
            },
            // Never loaded: everyone waits for the first load.
            None => {
                let _turn = self.refresh.lock().await;
                if self
                    .checked_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_none()
                {
                    self.refresh_from(db, now, None).await?;
                }
            }
        }
        Ok(self.current())
    }

    /// What is in force now, without asking the database.
    pub fn current(&self) -> Arc<Loaded> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts a version in force at once (the process that stored it), unless a newer one is.
    pub fn install(&self, loaded: Loaded) {
        install_into(&self.current, loaded);
    }

    /// Compares the stored version with the one in force and compiles a new one on a blocking
    /// thread: in the background while `background` holds the turn (released when it is in
    /// force), else waiting for it (the first load).
    async fn refresh_from(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
        background: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Result<(), DbErr> {
        let version = store::rules::version(db).await?;
        if version != self.current().version
            && let Some(row) = store::rules::current(db).await?
        {
            let compiling = tokio::task::spawn_blocking(move || {
                let parsed = serde_json::from_str::<Rules>(&row.rules)
                    .map_err(|e| e.to_string())
                    .and_then(|rules| {
                        CompiledRules::new(rules).map_err(|e| format!("{:?}", e.fields))
                    });
                (row, parsed)
            });
            let current = self.current.clone();
            let swap = async move {
                match compiling.await {
                    Ok((row, Ok(compiled))) => install_into(
                        &current,
                        Loaded {
                            version: row.version,
                            compiled,
                            updated_at: Some(row.updated_at),
                            updated_by: row.updated_by,
                        },
                    ),
                    Ok((row, Err(reason))) => tracing::error!(
                        version = row.version,
                        %reason,
                        "the stored content rules do not compile; the previous version stays in force"
                    ),
                    Err(e) => tracing::error!(
                        error = %e,
                        "compiling the content rules failed; the previous version stays in force"
                    ),
                }
            };
            match background {
                Some(turn) => {
                    tokio::spawn(async move {
                        swap.await;
                        drop(turn);
                    });
                }
                None => swap.await,
            }
        }
        *self.checked_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
        Ok(())
    }
}

/// Puts `loaded` in force unless a newer version is.
fn install_into(current: &RwLock<Arc<Loaded>>, loaded: Loaded) {
    let mut current = current.write().unwrap_or_else(|e| e.into_inner());
    if loaded.version >= current.version {
        *current = Arc::new(loaded);
    }
}
