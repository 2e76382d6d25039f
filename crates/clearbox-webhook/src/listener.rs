//! The listening socket, with a cap on the connections open at once.
//!
//! Neither axum-server nor hyper limits connections, so a client that opens many and sends
//! nothing would hold a task, a file descriptor and TLS buffers for each. Here every accepted
//! connection holds a permit until its socket closes: during the TLS handshake, while idle
//! between requests, and while a request runs. With every permit taken the server stops
//! calling `accept`, so further connections wait in the kernel's listen queue
//! ([`BACKLOG`], capped by `net.core.somaxconn`) and use no memory of the server. When that
//! queue is full too, Linux drops new connection attempts, and clients retry them.
//!
//! The timeouts that close slow and silent connections are set in `server.rs`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_server::{AddrListener, Address};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;

/// Length of the kernel's queue of connections not yet accepted. tokio's own `bind` uses 128,
/// which a burst of API server retries at the cap could fill.
const BACKLOG: u32 = 1024;

/// A socket address served through a [`LimitedListener`]: the listening address, and each
/// client's address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitedAddress(pub(crate) SocketAddr);

impl Address for LimitedAddress {
    type Stream = LimitedStream;
    type Listener = LimitedListener;
}

/// A TCP listener that accepts a connection only while fewer than its maximum are open.
#[derive(Debug)]
pub(crate) struct LimitedListener {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl LimitedListener {
    /// Binds `address` with a listen queue of [`BACKLOG`], for at most `max_connections` open
    /// connections at once.
    pub(crate) fn bind(
        address: SocketAddr,
        max_connections: usize,
        metrics: Arc<Metrics>,
    ) -> io::Result<LimitedListener> {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // Lets a restarted server bind the port while connections of the old one linger in
        // TIME_WAIT, as tokio's own `bind` does.
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        Ok(LimitedListener {
            listener: socket.listen(BACKLOG)?,
            permits: Arc::new(Semaphore::new(max_connections)),
            metrics,
        })
    }
}

impl AddrListener<LimitedStream, LimitedAddress> for LimitedListener {
    async fn bind_to(address: LimitedAddress) -> io::Result<Self> {
        // axum-server calls this only for a server made from an address rather than from a
        // listener, and the webhook always passes a listener, because the cap is not part of
        // the address.
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "`{}` must be bound with `LimitedListener::bind`, which sets the connection cap",
                address.0
            ),
        ))
    }

    async fn accept_stream(&self) -> io::Result<(LimitedStream, LimitedAddress)> {
        // Cancelling either wait (axum-server does on shutdown) drops nothing accepted: the
        // permit returns to the semaphore, and tokio's `accept` is cancel safe.
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("the connection semaphore is closed"))?;
        let (stream, peer) = self.listener.accept().await?;
        self.metrics.connection_opened();
        let stream = LimitedStream {
            stream,
            _permit: permit,
            metrics: Arc::clone(&self.metrics),
        };
        Ok((stream, LimitedAddress(peer)))
    }

    fn get_local_addr(&self) -> io::Result<LimitedAddress> {
        self.listener.local_addr().map(LimitedAddress)
    }
}

/// An accepted TCP connection that returns its permit when dropped.
#[derive(Debug)]
pub(crate) struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for LimitedStream {
    fn drop(&mut self) {
        self.metrics.connection_closed();
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
