//! The database goes away: a PostgreSQL instance of the test's own (`initdb` and `pg_ctl` on a
//! temporary directory and port) is stopped for a few seconds under load. Requests fail fast with
//! the error shape, `/readyz` answers 503, and once the database is back the service serves again
//! within 5 s, without a restart.
//!
//! Skipped with a notice where the PostgreSQL server binaries are missing.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use comment_service::clock::Clock;
use comment_service::startup::Application;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::{SERVICE_TOKEN, test_settings};

/// No request may take longer than this, database or not.
const FAIL_FAST: Duration = Duration::from_secs(5);

/// A PostgreSQL server of the test's own.
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// Set when the tests run as root: the server refuses root, so it runs as `postgres`.
    run_as: Option<&'static str>,
}

impl OwnPostgres {
    /// The newest installed server's binaries, or None (with a notice) where there are none.
    fn binaries() -> Option<PathBuf> {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = entry.path().join("bin");
                (bin.join("initdb").exists() && bin.join("pg_ctl").exists())
                    .then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, what: &str, command: &mut Command) {
        let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn init() -> Option<OwnPostgres> {
        let Some(bin) = Self::binaries() else {
            println!(
                "skipped the database outage test: no PostgreSQL server binaries \
                 (initdb, pg_ctl) under /usr/lib/postgresql/*/bin"
            );
            return None;
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let dir = tempfile::tempdir().expect("temp dir");
        let run_as = root.then_some("postgres");
        if let Some(user) = run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the temp dir to {user}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres {
            bin,
            dir,
            port,
            run_as,
        };
        pg.run(
            "initdb",
            pg.command("initdb")
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .arg("-D")
                .arg(pg.data()),
        );
        pg.start();
        Some(pg)
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl start",
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-o", &options, "-l"])
                .arg(self.dir.path().join("server.log"))
                .args(["-w", "-t", "30", "start"]),
        );
    }

    fn stop(&self) {
        self.run(
            "pg_ctl stop",
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "fast", "-w", "-t", "30", "stop"]),
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// One answer of the load: how long it took, its status and body.
#[derive(Debug)]
struct Answer {
    took: Duration,
    status: Option<StatusCode>,
    body: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let response = request.send().await;
    let (status, body) = match response {
        Ok(r) => {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            (
                Some(status),
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(_) => (None, Value::Null),
    };
    Answer {
        took: started.elapsed(),
        status,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_goes_away_and_comes_back() {
    let Some(pg) = OwnPostgres::init() else {
        return;
    };
    let mail_dir = tempfile::tempdir().unwrap();
    let settings = test_settings(&pg.url(), mail_dir.path(), &[]);
    let clock = Clock::manual(chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0));
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let published = (clock.now() - chrono::Duration::days(1)).to_rfc3339();
    let put = send(
        client
            .put(format!("{base}/api/v1/articles/o1"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&json!({"title": "T", "url": "https://x.at/o1", "published_at": published})),
    )
    .await;
    assert_eq!(put.status, Some(StatusCode::CREATED), "{:?}", put.body);

    // Load: readers and writers, each a new author (no rate limit), until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(Vec::<(Instant, Answer)>::new()));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (client, base, stop, answers) =
            (client.clone(), base.clone(), stop.clone(), answers.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let request = if n % 2 == 0 {
                    client
                        .get(format!("{base}/api/v1/articles/o1/comments"))
                        .bearer_auth(SERVICE_TOKEN)
                } else {
                    client
                        .post(format!("{base}/api/v1/articles/o1/comments"))
                        .bearer_auth(SERVICE_TOKEN)
                        .json(
                            &json!({"author": {"id": format!("w{worker}-{n}"), "name": "L"},
                                      "body": "Unter Last"}),
                        )
                };
                let sent = Instant::now();
                let answer = send(request).await;
                answers.lock().await.push((sent, answer));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let down_at = Instant::now(); // from here on, PostgreSQL is shutting down
    pg.stop();
    // While it is down: /readyz says so, and requests fail fast with the error shape.
    let ready = send(client.get(format!("{base}/readyz"))).await;
    assert_eq!(
        ready.status,
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "{ready:?}"
    );
    assert!(ready.took < FAIL_FAST, "/readyz took {:?}", ready.took);
    assert_eq!(ready.body["database"], "unreachable");
    tokio::time::sleep(Duration::from_secs(4)).await;

    pg.start();
    let up_at = Instant::now();
    // Back within 5 s: a read and a write, without a restart.
    let served = loop {
        let read = send(
            client
                .get(format!("{base}/api/v1/articles/o1"))
                .bearer_auth(SERVICE_TOKEN),
        )
        .await;
        let write = send(
            client
                .post(format!("{base}/api/v1/articles/o1/comments"))
                .bearer_auth(SERVICE_TOKEN)
                .json(&json!({"author": {"id": "zurueck", "name": "Z"}, "body": "Wieder da"})),
        )
        .await;
        if read.status == Some(StatusCode::OK) && write.status == Some(StatusCode::CREATED) {
            break up_at.elapsed();
        }
        assert!(
            up_at.elapsed() < Duration::from_secs(5),
            "not serving 5 s after the database came back: {read:?} {write:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let ready = send(client.get(format!("{base}/readyz"))).await;
    assert_eq!(ready.status, Some(StatusCode::OK), "{ready:?}");
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    handle.stop(true).await;

    let answers = answers.lock().await;
    let mut failed_while_down = 0;
    for (sent, answer) in answers.iter() {
        assert!(
            answer.took < FAIL_FAST,
            "a request took {:?}: {answer:?}",
            answer.took
        );
        let status = answer.status.expect("every request is answered");
        if status.is_success() {
            continue;
        }
        assert!(
            *sent + answer.took >= down_at && *sent < up_at + Duration::from_secs(5),
            "a request failed while the database was up: {answer:?}"
        );
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer:?}");
        assert_eq!(answer.body["error"]["code"], "internal", "{answer:?}");
        assert!(answer.body["error"]["message"].is_string(), "{answer:?}");
        failed_while_down += 1;
    }
    assert!(
        failed_while_down > 0,
        "the load saw no failure while the database was down ({} answers)",
        answers.len()
    );
    println!(
        "outage: {} answers, {failed_while_down} failed fast while the database was down; \
         serving again {served:?} after it came back",
        answers.len()
    );
}
