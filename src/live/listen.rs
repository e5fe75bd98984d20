//! On PostgreSQL, one connection per process `LISTEN`s for `live_events`: the triggers notify
//! when a transaction that wrote rows commits, on whichever replica, and the listener wakes the
//! pump. When the connection is lost it is opened again with backoff, and the pump is woken
//! once it is back: it reads from where it was, so nothing written meanwhile is missed.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;

use super::Live;

pub const CHANNEL: &str = "live_events";
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Listens until the streams are shut down.
pub async fn run(db: DatabaseConnection, live: Arc<Live>) {
    let pool = db.get_postgres_connection_pool().clone();
    let mut shutdown = live.shutdown.subscribe();
    let mut backoff = FIRST_BACKOFF;
    loop {
        match listen(&pool, &live, &mut shutdown).await {
            Ok(Stop) => return,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "listening for live events failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

struct Stop;

async fn listen(
    pool: &sea_orm::sqlx::PgPool,
    live: &Live,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<Stop, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    sea_orm::sqlx::query("SELECT set_config('application_name', $1, false)")
        .bind(live.listener_name())
        .execute(&mut listener)
        .await?;
    listener.listen(CHANNEL).await?;
    tracing::info!("listening for live events");
    // What was written while nobody listened.
    live.wake();
    loop {
        tokio::select! {
            received = listener.try_recv() => match received? {
                Some(_) => live.wake(),
                None => {
                    // sqlx opened a new connection and listens again.
                    tracing::warn!("the live events connection was lost; listening again");
                    live.wake();
                }
            },
            _ = shutdown.changed() => return Ok(Stop),
        }
    }
}
