//! The batching writer: ILP rows buffered and flushed by rows, bytes and age on tokio's blocking
//! pool; a failed flush keeps the rows for the next one.

use std::{
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::{Duration, Instant},
};

use questdb::ingress::{Buffer, ProtocolVersion, Sender};

use super::{
    config::QuestDbConfig,
    ilp::{flush_error, ilp_err},
};
use crate::Result;

struct WriterState {
    sender: Option<Sender>,
    conf: String,
    retry_timeout: Duration,
    buf: Buffer,
    rows: usize,
    oldest: Option<Instant>,
    last_background_error: Option<String>,
}

impl WriterState {
    /// The sender, made again when the last one must close (or none was made yet).
    fn sender(&mut self) -> questdb::Result<&mut Sender> {
        let sender = match self.sender.take() {
            Some(s) if !s.must_close() => s,
            _ => Sender::from_conf(&self.conf)?,
        };
        Ok(self.sender.insert(sender))
    }

    /// Sends the buffer. On failure the rows stay in the buffer for the next flush.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 && self.buf.is_empty() {
            return Ok(());
        }
        let mut buf = std::mem::replace(&mut self.buf, Buffer::new(ProtocolVersion::V1));
        let res = self.send_retrying(&mut buf);
        self.buf = buf;
        match res {
            Ok(()) => {
                self.rows = 0;
                self.oldest = None;
                self.last_background_error = None;
                Ok(())
            }
            Err(e) => Err(flush_error(e, self.rows)),
        }
    }

    /// One flush, retried while the server cannot be reached (connection refused or reset: it is
    /// down or restarting) until `retry_timeout`, on a new connection each time. questdb-rs
    /// retries 5xx answers and timeouts itself but not these. Sending again is safe: every table
    /// has DEDUP keys, so rows that did arrive are not doubled.
    fn send_retrying(&mut self, buf: &mut Buffer) -> questdb::Result<()> {
        let start = Instant::now();
        let mut backoff = Duration::from_millis(10);
        loop {
            let res = self.sender().and_then(|s| s.flush(buf));
            match res {
                Err(e)
                    if e.code() == questdb::ErrorCode::SocketError
                        && start.elapsed() + backoff < self.retry_timeout =>
                {
                    self.sender = None;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                r => return r,
            }
        }
    }

    /// Drops every pending row; returns how many there were.
    fn discard(&mut self) -> usize {
        let n = self.rows;
        self.buf.clear();
        self.rows = 0;
        self.oldest = None;
        self.last_background_error = None;
        n
    }
}

/// Batches ILP rows and flushes them by rows, bytes and age. Cloning shares the buffer.
#[derive(Clone)]
pub struct IlpWriter {
    state: Arc<Mutex<WriterState>>,
    max_rows: usize,
    max_bytes: usize,
    max_age: Duration,
}

impl std::fmt::Debug for IlpWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IlpWriter")
            .field("max_rows", &self.max_rows)
            .field("max_bytes", &self.max_bytes)
            .field("max_age", &self.max_age)
            .finish()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IlpWriter {
    /// A writer for `config` (no connection is made until the first flush).
    pub fn new(config: &QuestDbConfig) -> Result<Self> {
        let conf = config.ilp_conf();
        // Validate the configuration now, so a typo fails at start, not at the first flush.
        let sender = Sender::from_conf(&conf).map_err(ilp_err)?;
        Ok(Self {
            state: Arc::new(Mutex::new(WriterState {
                sender: Some(sender),
                conf,
                retry_timeout: config.retry_timeout,
                buf: Buffer::new(ProtocolVersion::V1),
                rows: 0,
                oldest: None,
                last_background_error: None,
            })),
            max_rows: config.max_rows.max(1),
            max_bytes: config.max_bytes.max(1024),
            max_age: config.max_age,
        })
    }

    /// Rows waiting to be sent.
    pub fn pending_rows(&self) -> usize {
        lock(&self.state).rows
    }

    /// Drops every pending row (after [`StoreError::Refused`], when the rows cannot be made to
    /// fit the table); returns how many there were.
    pub fn discard_pending(&self) -> usize {
        lock(&self.state).discard()
    }

    /// The pending ILP text (tests, diagnostics).
    pub fn pending_bytes(&self) -> Vec<u8> {
        lock(&self.state).buf.as_bytes().to_vec()
    }

    /// Encodes rows into the batch (all or none), then flushes when a limit is reached or when
    /// `flush_now`. Runs on the blocking pool.
    pub async fn append<F>(&self, rows: usize, flush_now: bool, encode: F) -> Result<()>
    where
        F: FnOnce(&mut Buffer) -> Result<()> + Send + 'static,
    {
        let state = self.state.clone();
        let (max_rows, max_bytes, max_age) = (self.max_rows, self.max_bytes, self.max_age);
        tokio::task::spawn_blocking(move || {
            let mut st = lock(&state);
            st.buf.set_marker().map_err(ilp_err)?;
            if let Err(e) = encode(&mut st.buf) {
                st.buf.rewind_to_marker().map_err(ilp_err)?;
                return Err(e);
            }
            st.buf.clear_marker();
            st.rows += rows;
            st.oldest.get_or_insert_with(Instant::now);
            let due = flush_now
                || st.rows >= max_rows
                || st.buf.len() >= max_bytes
                || st.oldest.is_some_and(|o| o.elapsed() >= max_age);
            if due { st.flush() } else { Ok(()) }
        })
        .await?
    }

    /// Sends everything pending. On error the rows are kept for the next attempt.
    pub async fn flush(&self) -> Result<()> {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || lock(&state).flush()).await?
    }

    /// The error of the last background (age-triggered) flush, if it failed and nothing succeeded since.
    pub fn last_background_error(&self) -> Option<String> {
        lock(&self.state).last_background_error.clone()
    }

    /// Starts the age-based flusher on the current tokio runtime. It stops when the writer is dropped.
    pub fn spawn_age_flusher(&self) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Mutex<WriterState>> = Arc::downgrade(&self.state);
        let max_age = self.max_age;
        let period = (max_age / 2).max(Duration::from_millis(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(state) = weak.upgrade() else { break };
                let due = lock(&state).oldest.is_some_and(|o| o.elapsed() >= max_age);
                if !due {
                    continue;
                }
                let res = tokio::task::spawn_blocking(move || {
                    let mut st = lock(&state);
                    let r = st.flush();
                    if let Err(e) = &r {
                        st.last_background_error = Some(e.to_string());
                    }
                    r
                })
                .await;
                if let Ok(Err(e)) = res {
                    tracing::warn!(error = %e, "QuestDB background flush failed; rows kept for retry");
                }
            }
        })
    }
}
