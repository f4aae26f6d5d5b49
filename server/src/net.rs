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
//! - Connections past `Limits::connections` are answered `503` at once and closed, so a flood
//!   degrades instead of hanging or running out of file descriptors.
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
/// `_MAX_LISTENERS`, `_REQUEST_TIMEOUT`, `_IDLE_TIMEOUT`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once: ordinary ones plus the live-results budget, which the SSE
    /// route enforces itself, so streams can never take the ordinary connections' share.
    pub connections: usize,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(io));
            continue;
        };
        let body_timeout = limits.request_timeout;
        let service = router.clone().map_request(move |request: axum::http::Request<hyper::body::Incoming>| {
            let mut request = request.map(|body| axum::body::Body::new(DeadlineBody::new(body, body_timeout)));
            request.extensions_mut().insert(ConnectInfo(peer));
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

/// Answers a connection past the cap with `BUSY` (bounded in time: the client may not read).
async fn refuse(mut io: GuardedStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        io.write_all(BUSY).await?;
        io.shutdown().await
    })
    .await;
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
