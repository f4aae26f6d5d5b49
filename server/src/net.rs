//! The HTTP/1 server loop, in place of `axum::serve`, for two things it cannot be told:
//! - Connections whose peer stops reading are closed: a write that cannot make progress for
//!   `STALL_LIMIT` fails, so a live-results client that never reads holds at most hyper's
//!   bounded write buffer, and only for that long.
//! - hyper's `half_close`: without it hyper keeps reading while a response streams (to spot
//!   a client hanging up early) and grows each connection's read buffer to 16 KiB for it; a
//!   live-results stream would pay that for its whole life. With it, a listener that leaves is
//!   noticed at the next write (an event, or the 15 s heartbeat) instead.
//! - Slow clients are bounded: a request head must arrive within `Limits::request_timeout`
//!   (hyper's header timer) and its body within the same again (`DeadlineBody`); a connection
//!   whose reads wait longer than `Limits::idle_timeout` for a byte (an idle keep-alive, a body
//!   that stopped) is closed.
//! - Ordinary connections past `Limits::connections`, or past `Limits::per_client` from one
//!   client network (not a trusted proxy), are answered `503` at once and closed, so a flood
//!   degrades instead of hanging. A connection that becomes a live-results stream gives its
//!   ordinary place back (`OrdinarySlot`): streams have their own budget, so they can never
//!   take the ordinary connections' share, nor the other way round.
//! - The process's open-file limit is raised to its hard limit at start, and the caps are
//!   fitted under it (`fit_to_files`), so a 503 is sent before descriptors run out.
//!
//! Every connection gets `TCP_NODELAY` (responses written in two parts stall ~40 ms without).

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

pub const STALL_LIMIT: Duration = Duration::from_secs(30);

/// How much of the machine clients may hold (`config`: `POLLTELLIGENCE_MAX_CONNECTIONS`,
/// `_MAX_CONNECTIONS_PER_CLIENT`, `_REQUEST_TIMEOUT`, `_IDLE_TIMEOUT`; the live-results budget
/// is the SSE route's own).
#[derive(Clone)]
pub struct Limits {
    /// Ordinary connections open at once.
    pub connections: usize,
    /// Connections open at once from one client network (IPv4 address or IPv6 /64); 0: no cap.
    pub per_client: usize,
    /// Peers the per-client cap does not apply to (trusted reverse proxies carry many clients).
    pub exempt: Arc<dyn Fn(std::net::IpAddr) -> bool + Send + Sync>,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
}

/// A connection's place among the ordinary ones (and among its client network's), in each of
/// its requests' extensions: a request that turns into a live-results stream gives it back
/// (`release`), since the stream counts against the listeners' budgets instead.
type Places = (tokio::sync::OwnedSemaphorePermit, Option<crate::networks::Held>);
pub struct OrdinarySlot(std::sync::Mutex<Option<Places>>);

impl OrdinarySlot {
    pub fn release(&self) {
        self.0.lock().expect("slot lock").take();
    }
}

/// Descriptors kept for what is not a client connection: database pools, model and log files,
/// the listening socket, and refusals being written.
pub const FILES_RESERVED: u64 = 256;
/// Refusals written at once; past this a connection is closed without its 503, so a flood of
/// refusals cannot itself hold descriptors.
const REFUSALS_AT_ONCE: usize = 64;

/// Raises the soft open-file limit to the hard one (systemd's default soft limit is 1,024)
/// and returns the limit now in force, or `None` where it cannot be read.
pub fn raise_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        // `None` is unlimited; Linux takes no soft limit above `fs.nr_open` (2^20 by default).
        let target = limit.maximum.unwrap_or(1 << 20);
        if limit.current.is_some_and(|current| current < target) {
            limit.current = Some(target);
            if setrlimit(Resource::Nofile, limit).is_err() {
                limit = getrlimit(Resource::Nofile);
            }
        }
        limit.current
    }
    #[cfg(not(unix))]
    None
}

/// Ordinary and live-results caps that fit in `files` descriptors with `FILES_RESERVED` kept
/// aside, shrunk in proportion when they do not (each connection is one descriptor).
pub fn fit_to_files(connections: usize, listeners: usize, files: Option<u64>) -> (usize, usize) {
    let Some(files) = files else { return (connections, listeners) };
    let room = (files.saturating_sub(FILES_RESERVED) as usize).max(1);
    let wanted = connections.saturating_add(listeners);
    if wanted <= room {
        return (connections, listeners);
    }
    let connections_fit = ((connections as u128 * room as u128) / wanted.max(1) as u128) as usize;
    let connections_fit = connections_fit.clamp(1, room);
    (connections_fit, room - connections_fit)
}

/// What a connection past the cap gets instead of a wait.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
retry-after: 1\r\nconnection: close\r\ncontent-length: 42\r\n\r\nThe server is busy; try again in a moment.";
/// After the shutdown signal, open requests get this long to finish; live-results streams
/// never finish by themselves, so they are cut then (browsers reconnect elsewhere).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish
/// for up to `SHUTDOWN_GRACE` before returning.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut listener = GuardedListener { listener, idle_timeout: limits.idle_timeout };
    let slots = Arc::new(Semaphore::new(limits.connections));
    let per_client = Arc::new(crate::networks::PerClient::new(limits.per_client));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    // Connections hold `open`; when all have dropped it, `closed` ends.
    let (stop, stopping) = watch::channel(false);
    let (open, mut closed) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let _ = io.tcp().set_nodelay(true);
        let held = match (limits.exempt)(peer.ip()) {
            true => None,
            false => match per_client.take(peer.ip()) {
                Some(held) => Some(held),
                None => {
                    refuse(io, &refusals);
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(io, &refusals);
            continue;
        };
        let slot = Arc::new(OrdinarySlot(std::sync::Mutex::new(Some((slot, held)))));
        let body_timeout = limits.request_timeout;
        let request_slot = slot.clone();
        let service = router.clone().map_request(move |request: axum::http::Request<hyper::body::Incoming>| {
            let mut request = request.map(|body| axum::body::Body::new(DeadlineBody::new(body, body_timeout)));
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(request_slot.clone());
            request
        });
        let mut stopping = stopping.clone();
        let open = open.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.half_close(true).timer(TokioTimer::new()).header_read_timeout(limits.request_timeout);
            let connection = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection.with_upgrades());
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop((open, slot));
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, closed.changed()).await;
    Ok(())
}

/// Answers a connection past a cap with `BUSY` (bounded in time: the client may not read),
/// or, while `REFUSALS_AT_ONCE` are being written, closes it at once.
fn refuse(mut io: GuardedStream, refusals: &Arc<Semaphore>) {
    let Ok(refusing) = refusals.clone().try_acquire_owned() else { return };
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            io.write_all(BUSY).await?;
            io.shutdown().await
        })
        .await;
        drop(refusing);
    });
}

pub struct GuardedListener {
    pub listener: TcpListener,
    pub idle_timeout: Duration,
}

impl Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.listener).await;
        (GuardedStream { inner: stream, stall: None, idle: None, idle_timeout: self.idle_timeout }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

pub struct GuardedStream {
    inner: TcpStream,
    /// Set while writes are blocked: fires `STALL_LIMIT` after the first blocked write.
    stall: Option<Pin<Box<Sleep>>>,
    /// Set while a read waits: fires `idle_timeout` after it began. hyper reads only while it
    /// wants a request or its body (`half_close`), so a long response is never cut by this.
    idle: Option<Pin<Box<Sleep>>>,
    idle_timeout: Duration,
}

impl GuardedStream {
    pub fn tcp(&self) -> &TcpStream {
        &self.inner
    }

    /// Turns "still blocked" into an error once the peer has read nothing for too long.
    fn blocked(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let stall = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + STALL_LIMIT)));
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "peer stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Pending => {
                let timeout = self.idle_timeout;
                let idle = self.idle.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match idle.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "client went quiet"))),
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.idle = None;
                ready
            }
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Pending => self.blocked(cx),
            ready => {
                self.stall = None;
                ready
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.blocked(cx),
            ready => {
                self.stall = None;
                ready
            }
        }
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

/// A request body that must arrive whole by a deadline: a client trickling bytes cannot
/// hold a handler (and its connection) longer than that.
pub struct DeadlineBody {
    inner: hyper::body::Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    fn new(inner: hyper::body::Incoming, within: Duration) -> Self {
        DeadlineBody { inner, deadline: Box::pin(tokio::time::sleep(within)) }
    }
}

impl hyper::body::Body for DeadlineBody {
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err("the request body did not arrive in time".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_are_fitted_under_the_open_file_limit() {
        assert_eq!(fit_to_files(1024, 10_000, Some(1 << 20)), (1024, 10_000), "room for both");
        assert_eq!(fit_to_files(1024, 10_000, None), (1024, 10_000), "unknown: as configured");
        // systemd's default soft limit, had it not been raised: 768 descriptors for clients.
        let (ordinary, listeners) = fit_to_files(1024, 10_000, Some(1024));
        assert_eq!(ordinary + listeners, 768);
        assert_eq!((ordinary, listeners), (71, 697));
        assert_eq!(fit_to_files(10, 10, Some(100)), (1, 0), "almost nothing left: one connection");
    }

    #[test]
    fn the_soft_file_limit_is_raised_to_the_hard_one() {
        let limit = raise_file_limit().expect("readable on Linux");
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(Some(limit), now.current);
        assert!(now.maximum.is_none_or(|hard| limit == hard), "{limit} of {:?}", now.maximum);
    }

    /// A peer that connects and never reads: writes block once the socket buffers are full,
    /// and `STALL_LIMIT` later the connection fails instead of waiting forever.
    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_is_dropped() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut listener = GuardedListener { listener, idle_timeout: Duration::from_secs(3600) };
        let addr = listener.local_addr().unwrap();
        let _silent = TcpStream::connect(addr).await.unwrap();
        let (mut stream, _) = listener.accept().await;
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0usize;
        let error = loop {
            match stream.write(&chunk).await {
                Ok(n) => written += n,
                Err(e) => break e,
            }
            assert!(written < 256 * 1024 * 1024, "writes never blocked");
        };
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        // Only what the kernel's buffers took was ever accepted.
        assert!(written < 64 * 1024 * 1024, "{written} bytes");
    }
}
