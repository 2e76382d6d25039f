//! A TCP proxy in front of the real registry that fails the first connections, so that the
//! client's retries meet a server error or a dropped connection.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// How a failed connection fails.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Respond `503 Service Unavailable` and close.
    ServiceUnavailable,
    /// Read the request and close without a response.
    Drop,
}

pub(crate) struct FlakyProxy {
    port: u16,
    failed: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FlakyProxy {
    /// Forwards connections to `127.0.0.1:upstream`, failing the first `failures` of them.
    pub(crate) fn start(upstream: u16, fault: Fault, failures: usize) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let failed = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (failed, stop) = (Arc::clone(&failed), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    if failed.load(Ordering::SeqCst) < failures {
                        failed.fetch_add(1, Ordering::SeqCst);
                        fail(stream, fault);
                    } else {
                        forward(stream, upstream);
                    }
                }
            })
        };
        FlakyProxy {
            port,
            failed,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connections failed so far.
    pub(crate) fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn fail(mut stream: TcpStream, fault: Fault) {
    // Read the request head first, so that the client sees a response to its request rather
    // than a refused write.
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
        line.clear();
    }
    if let Fault::ServiceUnavailable = fault {
        let _ = stream.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn forward(client: TcpStream, upstream: u16) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let pipe = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    };
    pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
    pipe(server, client);
}
