//! HTTP load for the inbox benchmark: POSTs distinct comments to cairn's inbox or to
//! Isso over keep-alive connections (reconnecting when the server closes them) and
//! prints accepted submissions/s and latency percentiles as one JSON line.
//!
//! usage: load ADDR cairn|isso CONNECTIONS SECONDS [RATE]
//!   without RATE: each connection sends its next request when the last is answered
//!   (maximum rate); with RATE: requests are scheduled at RATE/s in total and latency
//!   counts from the scheduled time whenever the server was still busy then, so a
//!   stalled server cannot hide its queue.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Pages the comments are spread over (`/posts/p0/` ...).
pub const PAGES: u64 = 500;

struct Outcome {
    latencies: Vec<Duration>,
    accepted: u64,
    refused: u64,
    errors: u64,
}

fn request(addr: &str, kind: &str, n: u64) -> Vec<u8> {
    // Distinct across runs too, or the inbox would refuse repeats as duplicates.
    static RUN: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    });
    let text = format!("Benchmark comment {run}-{n}: a few words about the post, with *some* Markdown and a [link](https://example.org/{n}).");
    // Comments spread over PAGES pages, as on a real site.
    let page = n % PAGES;
    let (path, body) = match kind {
        "isso" => (
            format!("/new?uri=%2Fposts%2Fp{page}%2F"),
            serde_json::json!({"text": text, "author": "Bench", "email": "bench@example.org"}),
        ),
        _ => (
            "/v1/comments".to_string(),
            serde_json::json!({"thread": format!("/posts/p{page}/"), "author": "Bench", "email": "bench@example.org", "body": text}),
        ),
    };
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response; returns (status, whether the server will close the connection).
async fn response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<(u16, bool)> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let close = head.contains("connection: close");
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok((status, close))
}

async fn connection(
    addr: String,
    kind: String,
    id: u64,
    step: u64,
    until: Instant,
    schedule: Option<(Instant, Duration)>,
) -> Outcome {
    let mut out = Outcome {
        latencies: Vec::new(),
        accepted: 0,
        refused: 0,
        errors: 0,
    };
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut n = id;
    let mut k: u32 = 0;
    // When the connection's previous request was answered.
    let mut free_at = Instant::now();
    loop {
        let due = match schedule {
            Some((start, every)) => start + every * k,
            None => Instant::now(),
        };
        if due >= until {
            break;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        // Latency counts from when the request was due if the server was still busy
        // with the previous one (its queue is its latency), else from the send: the
        // timer waking late is not the server's doing.
        let start = if free_at > due { due } else { Instant::now() };
        k += 1;
        if stream.is_none() {
            match TcpStream::connect(&addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(_) => {
                    out.errors += 1;
                    continue;
                }
            }
        }
        let s = stream.as_mut().expect("connected");
        let sent = s.write_all(&request(&addr, &kind, n)).await;
        n += step;
        let answer = match sent {
            Ok(()) => response(s, &mut buf).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok((status, close)) => {
                free_at = Instant::now();
                out.latencies.push(start.elapsed());
                if (200..300).contains(&status) {
                    out.accepted += 1;
                } else {
                    out.refused += 1;
                }
                if close {
                    stream = None;
                }
            }
            Err(_) => {
                out.errors += 1;
                stream = None;
            }
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: load ADDR cairn|isso CONNECTIONS SECONDS [RATE]");
        std::process::exit(2);
    }
    let (addr, kind) = (args[1].clone(), args[2].clone());
    let connections: u64 = args[3].parse().expect("CONNECTIONS");
    let seconds: f64 = args[4].parse().expect("SECONDS");
    let rate: Option<f64> = args.get(5).map(|r| r.parse().expect("RATE"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcomes = runtime.block_on(async {
        let start = Instant::now() + Duration::from_millis(50);
        let until = start + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                let schedule = rate.map(|r| {
                    let every = Duration::from_secs_f64(connections as f64 / r);
                    (start + every.mul_f64(c as f64 / connections as f64), every)
                });
                tokio::spawn(connection(
                    addr.clone(),
                    kind.clone(),
                    c,
                    connections,
                    until,
                    schedule,
                ))
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        all
    });
    let mut latencies: Vec<Duration> = outcomes
        .iter()
        .flat_map(|o| o.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let accepted: u64 = outcomes.iter().map(|o| o.accepted).sum();
    println!(
        "{}",
        serde_json::json!({
            "accepted": accepted,
            "refused": outcomes.iter().map(|o| o.refused).sum::<u64>(),
            "errors": outcomes.iter().map(|o| o.errors).sum::<u64>(),
            "per_second": accepted as f64 / seconds,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
        })
    );
}
