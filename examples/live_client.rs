//! The live-stream benchmark's client (see `bench/live.sh`): opens `STREAMS` streams of one
//! article, holds them open for `HOLD` seconds (the script measures the cached page meanwhile),
//! then posts `RATE` comments a second for `SECONDS` seconds and reports whether every stream
//! received every comment, and how long after the POST's answer the last stream had it.
//!
//! Settings (environment): `BASES` (comma-separated base URLs; streams are spread over them,
//! comments go to the first), `ARTICLE`, `TOKEN`, `STREAMS` (10000), `RATE` (20), `SECONDS`
//! (60), `HOLD` (0).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `host:port` of a base URL.
fn authority(base: &str) -> String {
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Opens one stream and returns when its headers arrived.
async fn open(authority: &str, article: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(authority).await?;
    stream
        .write_all(
            format!(
                "GET /live/articles/{article} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(std::io::Error::other("closed before the headers"));
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other(
            String::from_utf8_lossy(&head).into_owned(),
        ));
    }
    Ok(stream)
}

/// Reads a stream until `stop`, noting when each `comment.created` arrived (by comment id).
async fn read(
    mut stream: TcpStream,
    start: Instant,
    stop: Arc<tokio::sync::Notify>,
) -> Vec<(u64, u32)> {
    let mut got = Vec::new();
    let mut buffer = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let n = tokio::select! {
            n = stream.read(&mut chunk) => match n { Ok(0) | Err(_) => break, Ok(n) => n },
            _ = stop.notified() => break,
        };
        let at = start.elapsed().as_micros() as u32;
        buffer.extend_from_slice(&chunk[..n]);
        // Each created comment's data holds `"id":"<digits>"` first.
        let text = String::from_utf8_lossy(&buffer);
        let mut consumed = 0;
        while let Some(end) = text[consumed..].find("\n\n") {
            let frame = &text[consumed..consumed + end];
            if frame.contains("event: comment.created")
                && let Some(i) = frame.find("data: {\"id\":\"")
            {
                let rest = &frame[i + 13..];
                if let Some(id) = rest.split('"').next().and_then(|d| d.parse().ok()) {
                    got.push((id, at));
                }
            }
            consumed += end + 2;
        }
        buffer.drain(..consumed);
    }
    got
}

#[tokio::main]
async fn main() {
    let bases: Vec<String> = var("BASES", "http://127.0.0.1:18080".to_string())
        .split(',')
        .map(str::to_string)
        .collect();
    let article: String = var("ARTICLE", "live-bench".to_string());
    let token: String = var("TOKEN", "bench-service-token".to_string());
    let streams: usize = var("STREAMS", 10_000);
    let rate: u64 = var("RATE", 20);
    let seconds: u64 = var("SECONDS", 60);
    let hold: u64 = var("HOLD", 0);
    let start = Instant::now();
    let _ = rustls::crypto::ring::default_provider().install_default();

    // Open the streams, a few hundred at a time.
    let stop = Arc::new(tokio::sync::Notify::new());
    let opening = Arc::new(tokio::sync::Semaphore::new(256));
    let mut readers = Vec::with_capacity(streams);
    let mut opens = Vec::with_capacity(streams);
    for n in 0..streams {
        let authority = authority(&bases[n % bases.len()]);
        let article = article.clone();
        let opening = opening.clone();
        opens.push(tokio::spawn(async move {
            let _permit = opening.acquire().await;
            open(&authority, &article).await
        }));
    }
    for handle in opens {
        match handle.await.expect("open task") {
            Ok(stream) => readers.push(tokio::spawn(read(stream, start, stop.clone()))),
            Err(e) => {
                eprintln!("a stream did not open: {e}");
                std::process::exit(1);
            }
        }
    }
    println!(
        "opened {} streams in {:.1} s",
        readers.len(),
        start.elapsed().as_secs_f64()
    );
    if hold > 0 {
        println!("holding them open for {hold} s");
        tokio::time::sleep(Duration::from_secs(hold)).await;
    }

    // Post.
    let client = reqwest::Client::new();
    let post_url = format!(
        "{}/api/v1/articles/{article}/comments",
        bases[0].trim_end_matches('/')
    );
    let mut answered: HashMap<u64, u32> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let total = rate * seconds;
    let mut posting = tokio::task::JoinSet::new();
    for n in 0..total {
        tick.tick().await;
        let client = client.clone();
        let url = post_url.clone();
        let token = token.clone();
        posting.spawn(async move {
            let body = serde_json::json!({
                "author": {"id": format!("live-{n}"), "name": "Leserin"},
                "body": format!("Live-Kommentar Nummer {n}"),
            });
            let response = client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            let at = start.elapsed().as_micros() as u32;
            match response {
                Ok(r) if r.status().as_u16() == 201 => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    v["id"]
                        .as_str()
                        .and_then(|id| id.parse::<u64>().ok())
                        .map(|id| (id, at))
                }
                Ok(r) => {
                    eprintln!("POST answered {}", r.status());
                    None
                }
                Err(e) => {
                    eprintln!("POST failed: {e}");
                    None
                }
            }
        });
    }
    while let Some(done) = posting.join_next().await {
        if let Some((id, at)) = done.expect("post task") {
            answered.insert(id, at);
        }
    }
    // What is still on its way.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.notify_waiters();
    let mut last_receipt: HashMap<u64, (usize, u32)> = HashMap::new();
    for reader in readers {
        for (id, at) in reader.await.expect("reader task") {
            let entry = last_receipt.entry(id).or_insert((0, 0));
            entry.0 += 1;
            entry.1 = entry.1.max(at);
        }
    }
    let mut complete = 0;
    let mut latencies: Vec<u32> = Vec::new();
    for (id, posted_at) in &answered {
        if let Some((count, last)) = last_receipt.get(id) {
            if *count == streams {
                complete += 1;
            }
            latencies.push(last.saturating_sub(*posted_at));
        }
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    };
    println!(
        "posted {} of {total} comments; {complete} reached all {streams} streams",
        answered.len()
    );
    println!(
        "POST answered -> last stream received: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    if complete != answered.len() || answered.len() as u64 != total {
        std::process::exit(2);
    }
}
