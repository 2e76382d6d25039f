//! A real PostgreSQL 15 server for tests, on 127.0.0.1 and a free port, in a temporary
//! directory.
//!
//! `initdb` creates the cluster with trust authentication for the `postgres` user, and the
//! `postgres` server runs in the foreground as a child process, stopped by its PID on drop
//! (SIGTERM, then SIGKILL after ten seconds). PostgreSQL refuses to run as root, so under root
//! both run as the `postgres` account through `setpriv`, which replaces itself with the server
//! and keeps its PID.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::skip;

/// The directory of the server programs of Debian's `postgresql-15` package.
const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running PostgreSQL server, stopped on drop.
#[derive(Debug)]
pub struct PostgresServer {
    child: Child,
    port: u16,
    // Removed after the server stops, since fields drop after `Drop::drop` runs.
    dir: tempfile::TempDir,
}

fn as_postgres_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl PostgresServer {
    /// Starts a server, or returns `None` (through [`skip`]) when PostgreSQL 15 is not
    /// installed.
    ///
    /// # Panics
    ///
    /// When `initdb` fails or the server does not accept connections within 30 seconds, with
    /// its log.
    #[must_use]
    pub fn start() -> Option<PostgresServer> {
        let bin = PathBuf::from(BIN);
        if !bin.join("postgres").is_file() {
            return skip(&format!(
                "PostgreSQL 15 is not installed (no `{BIN}/postgres`); run scripts/setup.sh"
            ));
        }
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let dir = tempfile::tempdir().expect("create a temporary directory");
        if root {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("run chown");
            assert!(status.success(), "chown of the PostgreSQL directory failed");
        }
        let data = dir.path().join("data");
        let output = as_postgres_user(&bin.join("initdb"), root)
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).expect("create the log");
        if root {
            let _ = Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path().join("server.log"))
                .status();
        }
        let child = as_postgres_user(&bin.join("postgres"), root)
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start postgres");
        let server = PostgresServer { child, port, dir };
        // The port accepts connections before the server accepts sessions ("the database system
        // is starting up"), so wait for `pg_isready` too.
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                && Command::new(bin.join("pg_isready"))
                    .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                    .status()
                    .is_ok_and(|status| status.success())
        };
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start within 30 seconds: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    /// Returns the URL of the `postgres` database as the `postgres` user.
    #[must_use]
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Returns the server's log.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // On SIGTERM the server stops its backends and exits; SIGKILL follows if it hangs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
