//! Serving the app over TCP with connection hygiene: [`serve`].
//!
//! - **Header-read timeout** (`header_read_timeout`, 10 s): hyper closes a connection whose
//!   request head has not fully arrived this long after it started waiting for one, on a new
//!   connection and between requests of a kept-alive one (so it is the idle keep-alive timeout).
//! - **Idle timeout** (`idle_timeout`, 60 s): a connection on which nothing could be read or
//!   written for this long, with no request being handled, is closed: a body that stopped
//!   coming, a stream whose client stopped reading.
//! - **Body timeout**: the app's (`body_read_timeout`, 30 s for the whole body, 408).
//! - **Connection cap** (`max_connections`, 512): beyond it a connection is accepted, answered
//!   `503` problem+json with `Connection: close` and closed, so a client learns why at once
//!   (refusing to accept would leave it waiting in the kernel's backlog, and a health check with
//!   it). At most [`REFUSALS_IN_FLIGHT`] such answers are being written at once; past that, a
//!   connection over the cap is closed without an answer.
//! - **Head size**: hyper's own buffer is larger than the app's limits (`max_uri_bytes`,
//!   `max_header_bytes`, `max_headers`), so those answer 414/431 as problem+json; a head larger
//!   than hyper's buffer (`max_buf_bytes`) still gets hyper's own bare 431 (or 414), without a
//!   body: hyper writes that answer itself.

use std::{
    convert::Infallible,
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::Request, response::Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
    time::Instant,
};
use tower::ServiceExt;

use crate::{metrics::Metrics, state::ApiConfig};

/// Connections over the cap being answered 503 at once.
pub const REFUSALS_IN_FLIGHT: usize = 64;

/// The connection limits of [`serve`]; [`crate::AppState::serve_limits`] makes them from the
/// state's [`ApiConfig`].
#[derive(Debug, Clone)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// hyper's read buffer, bytes: the largest request head hyper reads (at least 8192).
    pub max_buf_bytes: usize,
    /// The most header fields hyper reads.
    pub max_headers: usize,
    /// How long a shutdown waits for open connections to finish before dropping them.
    pub shutdown_grace: Duration,
    metrics: Option<Metrics>,
}

impl ServeLimits {
    pub fn from_config(config: &ApiConfig) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections.max(1),
            max_buf_bytes: (4 * (config.max_header_bytes + config.max_uri_bytes)).max(8192),
            max_headers: config.max_headers.saturating_mul(2).max(1),
            shutdown_grace: Duration::from_secs(10),
            metrics: None,
        }
    }

    /// Counts open and refused connections in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self::from_config(&ApiConfig::default())
    }
}

/// Serves `app` on `listener` (HTTP/1.1) under `limits` until `shutdown` completes; then stops
/// accepting, lets open connections finish for `shutdown_grace` and drops the rest.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_buf_bytes.max(8192))
        .max_headers(limits.max_headers);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let refusal = Arc::new(refusal_answer(limits.max_connections));
    let open = Arc::new(AtomicUsize::new(0));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut upkeep = tokio::time::interval(crate::metrics::UPKEEP_EVERY);
    upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            _ = upkeep.tick(), if limits.metrics.is_some() => {
                if let Some(m) = &limits.metrics {
                    m.upkeep();
                }
                continue;
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            if let Some(m) = &limits.metrics {
                m.connection_refused();
            }
            refuse(stream, &refusals, &refusal);
            continue;
        };
        let conn = Conn {
            app: app.clone(),
            http: http.clone(),
            idle: limits.idle_timeout,
            stopping: stopping.clone(),
            open: Open::new(open.clone(), limits.metrics.clone(), permit),
        };
        connections.spawn(conn.run(stream));
    }
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            left = connections.len(),
            "connections still open after the shutdown grace; dropped"
        );
        connections.abort_all();
    }
    Ok(())
}

/// Out of file descriptors and the like: wait a little, as `axum::serve` does, so the loop does
/// not spin; a connection reset before it was accepted is nothing.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// The 503 answer to a connection over the cap.
fn refusal_answer(max: usize) -> Vec<u8> {
    let body = serde_json::json!({
        "type": "urn:tcgtracker:problem:overloaded",
        "title": "Service Unavailable",
        "status": 503,
        "detail": format!("the server holds its most connections ({max}); retry shortly"),
        "retry_after": 1,
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers 503 and closes, in the background (at most [`REFUSALS_IN_FLIGHT`] at once, each for
/// at most 2 s); the request is read and dropped so that closing does not reset the connection
/// before the client has read the answer.
fn refuse(mut stream: TcpStream, refusals: &Arc<Semaphore>, answer: &Arc<Vec<u8>>) {
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    let answer = answer.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            stream.write_all(&answer).await?;
            stream.shutdown().await?;
            let mut buf = [0u8; 4096];
            let mut read = 0;
            while read < 64 * 1024 {
                match stream.read(&mut buf).await? {
                    0 => break,
                    n => read += n,
                }
            }
            Ok::<(), io::Error>(())
        })
        .await;
    });
}

/// One open connection: its slot, counted in the metrics while it lives.
struct Open {
    count: Arc<AtomicUsize>,
    metrics: Option<Metrics>,
    _slot: OwnedSemaphorePermit,
}

impl Open {
    fn new(count: Arc<AtomicUsize>, metrics: Option<Metrics>, slot: OwnedSemaphorePermit) -> Self {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(m) = &metrics {
            m.connections(n);
        }
        Self {
            count,
            metrics,
            _slot: slot,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let n = self.count.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        if let Some(m) = &self.metrics {
            m.connections(n);
        }
    }
}

struct Conn {
    app: Router,
    http: hyper::server::conn::http1::Builder,
    idle: Duration,
    stopping: watch::Receiver<bool>,
    open: Open,
}

impl Conn {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let service = Handler {
            app: self.app,
            activity: activity.clone(),
        };
        let conn = self.http.serve_connection(io, service);
        tokio::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    break;
                }
                changed = self.stopping.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
                () = activity.idle_for(self.idle) => {
                    tracing::debug!("connection idle; closed");
                    break;
                }
            }
        }
        drop(self.open);
    }
}

/// When a connection last made progress, and whether a request is being handled on it.
struct Activity {
    base: Instant,
    /// Milliseconds after `base`.
    last: AtomicU64,
    handling: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            last: AtomicU64::new(0),
            handling: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.fetch_max(ms, Ordering::Relaxed);
    }

    /// Completes once nothing was read or written for `idle` while no request was handled.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = self.base + Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() >= deadline && self.handling.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep_until(deadline.max(Instant::now() + Duration::from_millis(100)))
                .await;
        }
    }
}

/// The app as hyper's service, marking the connection busy while a request is handled.
#[derive(Clone)]
struct Handler {
    app: Router,
    activity: Arc<Activity>,
}

struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

impl hyper::service::Service<Request<Incoming>> for Handler {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        self.activity.handling.fetch_add(1, Ordering::Relaxed);
        let handling = Handling(self.activity.clone());
        let app = self.app.clone();
        Box::pin(async move {
            let resp = app.oneshot(req.map(Body::new)).await;
            drop(handling);
            resp
        })
    }
}

/// A stream that records when bytes went through it.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
