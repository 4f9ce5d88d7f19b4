//! The inbox's HTTP/1 server: a task per connection, deadlines for a request's head
//! and body (a client that drips bytes cannot hold a connection for ever), limits on
//! the connections held (in all and per client, so idle ones cannot use up the file
//! descriptors the spool and delivery need), and a graceful shutdown that waits a
//! bounded time for the requests in flight.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use http_body::{Body as _, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tower::ServiceExt;

/// How long clients and requests may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// For a request's head; then its connection is closed.
    pub head: Duration,
    /// For a request's body, counted from its head; then reading the body fails (a
    /// comment post is answered 400, "incomplete").
    pub body: Duration,
    /// How long a shutdown waits for the requests in flight before it closes their
    /// connections.
    pub shutdown: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            head: Duration::from_secs(30),
            body: Duration::from_secs(30),
            shutdown: Duration::from_secs(10),
        }
    }
}

/// How many connections the server holds at once.
#[derive(Debug, Clone)]
pub struct Limits {
    /// In all; beyond, new connections wait in the listen queue until one ends.
    pub connections: usize,
    /// From one client address (IPv6: one /64); beyond, a new connection is answered
    /// 503 and closed.
    pub per_client: usize,
    /// Peers whose connections carry many clients (the trusted proxies): no limit
    /// per client for them.
    pub exempt: Vec<ipnet::IpNet>,
}

/// File descriptors kept for the spool, the delivery's repository and mail, out of
/// reach of connections.
const RESERVED_FILES: u64 = 256;

/// Most connections held at once, however many files the process may open.
const MAX_CONNECTIONS: u64 = 16_384;

/// Connections one client may hold: a browser opens six at most.
const PER_CLIENT: usize = 128;

impl Limits {
    /// Limits for a process that may open `open_files` files, with `exempt` peers.
    pub fn new(open_files: u64, exempt: Vec<ipnet::IpNet>) -> Limits {
        let connections = open_files
            .saturating_sub(RESERVED_FILES)
            .max(open_files / 2)
            .clamp(1, MAX_CONNECTIONS);
        Limits {
            connections: connections as usize,
            per_client: PER_CLIENT,
            exempt,
        }
    }

    /// Takes a connection from `peer` on for its client, or, past the client's limit,
    /// answers 503 and closes it.
    fn admit(
        &self,
        clients: &Arc<Mutex<Clients>>,
        peer: IpAddr,
        stream: &tokio::net::TcpStream,
    ) -> Result<Option<Held>, ()> {
        if self.exempt.iter().any(|net| net.contains(&peer)) {
            return Ok(None);
        }
        let key = client_key(peer);
        let mut all = clients.lock().unwrap_or_else(|e| e.into_inner());
        let held = all.held.entry(key).or_default();
        if *held >= self.per_client {
            // A new connection's send buffer is empty: the answer goes out whole or
            // not at all, without waiting.
            let _ = stream.try_write(TOO_MANY);
            if due(&mut all.warned) {
                // Without the address: IP addresses stay in memory, out of logs too.
                tracing::warn!(
                    "a client holds {} connections, the most one may: refusing more \
                     (logged once a minute)",
                    self.per_client
                );
            }
            return Err(());
        }
        *held += 1;
        Ok(Some(Held {
            clients: clients.clone(),
            key,
        }))
    }
}

/// Raises the soft limit on open files to the hard limit, as servers do (systemd
/// starts services with 1,024, which idle connections alone could use up), and
/// returns the limit in force. Only the first call changes anything.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    static RAISED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *RAISED.get_or_init(|| {
        // The kernel's own ceiling (fs.nr_open) by default; an unlimited hard limit is
        // not one a process can set.
        const CEILING: u64 = 1 << 20;
        let limit = getrlimit(Resource::Nofile);
        let current = limit.current.unwrap_or(CEILING);
        let wanted = limit.maximum.unwrap_or(CEILING).min(CEILING);
        if current < wanted {
            let raised = Rlimit {
                current: Some(wanted),
                maximum: limit.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => return wanted,
                Err(e) => tracing::warn!("cannot raise the open files limit from {current}: {e}"),
            }
        }
        current
    })
}

/// The address that limits count a client by: IPv4 as it is (also when it came as an
/// IPv4-mapped IPv6 address, as a dual-stack listener gives it), IPv6 per /64, the
/// block one subscriber usually gets.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

/// Connections held per client, and when a refusal was last logged.
#[derive(Default)]
struct Clients {
    held: HashMap<IpAddr, usize>,
    warned: Option<Instant>,
}

/// A client's hold on one of its connections, given back when the connection ends.
struct Held {
    clients: Arc<Mutex<Clients>>,
    key: IpAddr,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = clients.held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                clients.held.remove(&self.key);
            }
        }
    }
}

/// How often, at most, the server logs that it is at a limit.
const WARN_EVERY: Duration = Duration::from_secs(60);

fn due(warned: &mut Option<Instant>) -> bool {
    let due = warned.is_none_or(|at| at.elapsed() >= WARN_EVERY);
    if due {
        *warned = Some(Instant::now());
    }
    due
}

/// The answer to a connection over its client's limit.
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\nConnection: close\r\n\
Content-Length: 40\r\n\r\nToo many connections from your address.\n";

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets
/// idle connections go, and waits up to `timeouts.shutdown` for requests in flight.
/// Each request carries its client's address as [`ConnectInfo`] (an IPv4 client of a
/// dual-stack listener by its IPv4 address).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let open = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let clients = Arc::new(Mutex::new(Clients::default()));
    let mut warned = None;
    loop {
        let permit = match open.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if due(&mut warned) {
                    tracing::warn!(
                        "{} connections open, the most the inbox holds: new ones wait \
                         (logged once a minute)",
                        limits.connections
                    );
                }
                tokio::select! {
                    permit = open.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, most likely: give connections time to end.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let Ok(held) = limits.admit(&clients, peer.ip(), &stream) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _held = (permit, held);
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(|body| {
                    if body.is_end_stream() {
                        Body::new(body)
                    } else {
                        Body::new(Deadline::new(body, timeouts.body))
                    }
                });
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.head)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = closed.wait_for(|closed| *closed) => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(timeouts.shutdown, finished)
        .await
        .is_err()
    {
        tracing::warn!(
            "{} connections still open {:?} after the shutdown began: closing them",
            connections.len(),
            timeouts.shutdown
        );
        connections.shutdown().await;
    }
}

/// A request body that fails once its time has passed since the request's head came,
/// however steadily its bytes drip in.
struct Deadline {
    body: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl Deadline {
    fn new(body: Incoming, time: Duration) -> Deadline {
        Deadline {
            body,
            deadline: Box::pin(tokio::time::sleep(time)),
        }
    }
}

/// The error a request body gives when its time is up.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimeout.into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
