//! The listening socket. Connections whose peer stops reading are closed: a write that
//! cannot make progress for `STALL_LIMIT` fails, so a live-results client that never reads
//! holds at most hyper's bounded write buffer, and only for that long.

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

pub const STALL_LIMIT: Duration = Duration::from_secs(30);

pub struct GuardedListener(pub TcpListener);

impl Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (GuardedStream { inner: stream, stall: None }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

pub struct GuardedStream {
    inner: TcpStream,
    /// Set while writes are blocked: fires `STALL_LIMIT` after the first blocked write.
    stall: Option<Pin<Box<Sleep>>>,
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
        Pin::new(&mut self.inner).poll_read(cx, buf)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A peer that connects and never reads: writes block once the socket buffers are full,
    /// and `STALL_LIMIT` later the connection fails instead of waiting forever.
    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_is_dropped() {
        let mut listener = GuardedListener(TcpListener::bind("127.0.0.1:0").await.unwrap());
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
