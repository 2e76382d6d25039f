//! A real registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on
//! 127.0.0.1, with optional TLS, htpasswd Basic authentication, or token authentication
//! served by a small token server in the test process.
//!
//! Everything lives in a temporary directory: the registry config, its filesystem storage,
//! the certificates (made with the `openssl` command) and the htpasswd file (made with
//! `htpasswd -Bbn`). The registry process is killed by its PID when the [`RegistryServer`]
//! is dropped.
//!
//! The token server implements the issuing side of Docker's token authentication as
//! distribution 2.8 verifies it: a JWT signed with ES256, whose `x5c` header contains a
//! self-signed certificate that is also the registry's `rootcertbundle`, with `iss` equal to
//! the configured issuer, `aud` equal to the service, `exp`/`nbf` around now, and an `access`
//! claim granting every action each requested scope names. The signature comes from
//! `openssl dgst -sha256 -sign`, converted from DER to the raw `r‖s` form that JWS uses.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{skip, workspace_root};

/// The `service` the registry names in its token challenges, and the token audience.
pub const TOKEN_SERVICE: &str = "clearbox-test-registry";
/// The issuer the registry trusts.
pub const TOKEN_ISSUER: &str = "clearbox-test-issuer";

/// Settings of the test registry. The default is plain HTTP without authentication.
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// Serve HTTPS with a certificate for `IP:127.0.0.1` issued by a test CA.
    pub tls: bool,
    /// Require Basic authentication with this user name and password (`auth.htpasswd`).
    pub htpasswd: Option<(String, String)>,
    /// Require bearer tokens from a token server that accepts this user name and password
    /// (`auth.token`). Takes precedence over `htpasswd`.
    pub token_auth: Option<(String, String)>,
}

/// A running `docker-registry serve`, killed on drop.
#[derive(Debug)]
pub struct RegistryServer {
    // Held for its `Drop`; dropped first, so that the registry stops before its directory
    // is removed.
    _process: Process,
    port: u16,
    dir: tempfile::TempDir,
    tls: bool,
    token: Option<TokenServer>,
}

/// A child process killed by its PID (`Child::kill` sends SIGKILL to it alone) on drop.
#[derive(Debug)]
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl RegistryServer {
    /// Starts a registry, or returns `None` (through [`skip`]) when `docker-registry`,
    /// `openssl` or `htpasswd` is missing.
    ///
    /// # Panics
    ///
    /// When the registry does not start within 20 seconds, with its log.
    #[must_use]
    pub fn start(config: RegistryConfig) -> Option<RegistryServer> {
        for tool in ["docker-registry", "openssl", "htpasswd"] {
            if !is_installed(tool) {
                return skip(&format!(
                    "`{tool}` is not installed; run scripts/setup.sh (Debian packages \
                     docker-registry, openssl, apache2-utils)"
                ));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("clearbox-registry-")
            .tempdir()
            .expect("create a temporary directory");
        let root = dir.path().to_owned();
        let RegistryConfig {
            tls,
            htpasswd,
            token_auth,
        } = config;
        if tls {
            make_tls_certificates(&root);
        }
        if let Some((user, password)) = &htpasswd {
            let output = run(Command::new("htpasswd").args(["-Bbn", user, password]));
            std::fs::write(root.join("htpasswd"), output).expect("write htpasswd");
        }
        let token = token_auth.as_ref().map(|(user, password)| {
            make_token_certificate(&root);
            TokenServer::start(&root, user, password)
        });

        // A free port can be taken between probing and binding; try a few.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let config_path = root.join("config.yml");
            let yaml = config_yaml(&root, port, tls, htpasswd.is_some(), token.as_ref());
            std::fs::write(&config_path, yaml).expect("write the registry config");
            let log_path = root.join("registry.log");
            let log = std::fs::File::create(&log_path).expect("create the registry log");
            let mut command = Command::new("docker-registry");
            command
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone the log handle"))
                .stderr(log);
            // distribution reads `REGISTRY_*` variables as config overrides.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("REGISTRY_") {
                    command.env_remove(name);
                }
            }
            let mut process = Process(command.spawn().expect("start docker-registry"));
            if wait_ready(&mut process.0, port) {
                return Some(RegistryServer {
                    _process: process,
                    port,
                    dir,
                    tls,
                    token,
                });
            }
            drop(process);
            last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("docker-registry did not start; its log:\n{last_log}");
    }

    /// `127.0.0.1:PORT`, the registry part of image references.
    #[must_use]
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Returns the CA certificate that issued the registry's certificate, when it serves TLS.
    #[must_use]
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("ca.crt"))
    }

    /// Returns a directory that contains only `ca.crt`, as `skopeo --dest-cert-dir` and
    /// `--src-cert-dir` expect.
    #[must_use]
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.tls.then(|| self.dir.path().join("certs.d"))
    }

    /// Returns the registry's filesystem storage, for tests that corrupt stored content on
    /// purpose.
    #[must_use]
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The registry's log so far. At level `info`, distribution logs one `response completed`
    /// line per request with its method and URI.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The token server's URL, when the registry uses token authentication.
    #[must_use]
    pub fn token_realm(&self) -> Option<String> {
        self.token.as_ref().map(TokenServer::realm)
    }

    /// Tokens issued so far by the token server (0 without token authentication).
    #[must_use]
    pub fn tokens_issued(&self) -> usize {
        self.token
            .as_ref()
            .map_or(0, |t| t.issued.load(Ordering::SeqCst))
    }

    /// Copies an OCI layout image to `docker://HOST:PORT/<target>` with skopeo, using the
    /// registry's CA and the given credentials. Returns `None` (through [`skip`]) when skopeo
    /// is missing.
    ///
    /// # Panics
    ///
    /// When skopeo fails, with its output.
    #[must_use]
    pub fn push_layout(
        &self,
        source: &str,
        target: &str,
        credentials: Option<(&str, &str)>,
    ) -> Option<()> {
        let skopeo = skopeo()?;
        let mut command = Command::new(skopeo);
        command.args(["copy", "--quiet", "--retry-times", "0"]);
        match self.cert_dir() {
            Some(dir) => command.arg("--dest-cert-dir").arg(dir),
            None => command.arg("--dest-tls-verify=false"),
        };
        if let Some((user, password)) = credentials {
            command
                .arg("--dest-creds")
                .arg(format!("{user}:{password}"));
        }
        command
            .arg(source)
            .arg(format!("docker://{}/{target}", self.host_port()));
        run(&mut command);
        Some(())
    }
}

/// True once `/v2/` answers. A TLS registry answers a plain request with Go's "HTTP request to
/// an HTTPS server" 400, which proves it is serving just as well.
fn wait_ready(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let request = "GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
            let mut head = [0u8; 8];
            if stream.write_all(request.as_bytes()).is_ok()
                && stream.read_exact(&mut head).is_ok()
                && head.starts_with(b"HTTP/1.")
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The skopeo to push with: `tools/bin/skopeo` of the workspace, else `skopeo` on `PATH`.
#[must_use]
pub fn skopeo() -> Option<PathBuf> {
    let bundled = workspace_root().join("tools/bin/skopeo");
    if bundled.is_file() {
        return Some(bundled);
    }
    if is_installed("skopeo") {
        return Some(PathBuf::from("skopeo"));
    }
    skip("skopeo is not installed; run scripts/setup.sh")
}

fn is_installed(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Runs a command and returns its stdout.
///
/// # Panics
///
/// When the command fails to start or exits non-zero.
fn run(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} exited with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Makes `ca.crt` and a leaf `server.crt`/`server.key` for `IP:127.0.0.1`, and
/// `certs.d/ca.crt`. The leaf states `CA:FALSE`, because rustls rejects a CA certificate
/// presented as a server certificate.
fn make_tls_certificates(root: &Path) {
    let openssl = |args: &[&str]| {
        run(Command::new("openssl").current_dir(root).args(args));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=clearbox test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        root.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-set_serial",
        "2",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    std::fs::create_dir_all(root.join("certs.d")).expect("create certs.d");
    std::fs::copy(root.join("ca.crt"), root.join("certs.d/ca.crt")).expect("copy ca.crt");
}

/// Makes the token signing key and its self-signed certificate (`token.key`, `token.crt`,
/// `token.der`).
fn make_token_certificate(root: &Path) {
    let openssl = |args: &[&str]| {
        run(Command::new("openssl").current_dir(root).args(args));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "token.key",
        "-out",
        "token.crt",
        "-days",
        "2",
        "-subj",
        "/CN=clearbox test token issuer",
    ]);
    openssl(&[
        "x509",
        "-in",
        "token.crt",
        "-outform",
        "DER",
        "-out",
        "token.der",
    ]);
}

fn config_yaml(
    root: &Path,
    port: u16,
    tls: bool,
    htpasswd: bool,
    token: Option<&TokenServer>,
) -> String {
    let path = |name: &str| root.join(name).display().to_string();
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: \"{storage}\"\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: clearbox-test-secret\n",
        storage = path("storage"),
    );
    if tls {
        let _ = write!(
            yaml,
            "  tls:\n    certificate: \"{}\"\n    key: \"{}\"\n",
            path("server.crt"),
            path("server.key")
        );
    }
    if let Some(token) = token {
        let _ = write!(
            yaml,
            "auth:\n  token:\n    realm: \"{}\"\n    service: {TOKEN_SERVICE}\n    \
             issuer: {TOKEN_ISSUER}\n    rootcertbundle: \"{}\"\n",
            token.realm(),
            path("token.crt")
        );
    } else if htpasswd {
        let _ = write!(
            yaml,
            "auth:\n  htpasswd:\n    realm: clearbox-test\n    path: \"{}\"\n",
            path("htpasswd")
        );
    }
    yaml
}

/// A one-thread HTTP token server on 127.0.0.1.
#[derive(Debug)]
struct TokenServer {
    port: u16,
    stop: Arc<AtomicBool>,
    issued: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

/// What the token server needs to check a request and sign a token.
struct Issuer {
    root: PathBuf,
    expected_authorization: String,
    username: String,
    certificate: String,
}

impl TokenServer {
    fn start(root: &Path, username: &str, password: &str) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the token server");
        let port = listener.local_addr().expect("token server address").port();
        let der = std::fs::read(root.join("token.der")).expect("read token.der");
        let issuer = Issuer {
            root: root.to_owned(),
            expected_authorization: format!(
                "Basic {}",
                base64(format!("{username}:{password}").as_bytes(), STANDARD)
            ),
            username: username.to_owned(),
            certificate: base64(&der, STANDARD),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, count) = (Arc::clone(&stop), Arc::clone(&count));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = issuer.answer(stream, &count);
                    }
                }
            })
        };
        TokenServer {
            port,
            stop,
            issued: count,
            thread: Some(thread),
        }
    }

    fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        // Wake the accept loop so that it sees the flag.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Issuer {
    /// Reads one request and answers 401 or 200 with a token; closes the connection.
    fn answer(&self, stream: TcpStream, issued: &AtomicUsize) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut request_line = String::new();
        reader.read_line(&mut request_line)?;
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                authorization = Some(value.trim().to_owned());
            }
        }
        let target = request_line.split_whitespace().nth(1).unwrap_or_default();
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let mut stream = stream;
        if authorization.as_deref() != Some(self.expected_authorization.as_str()) {
            let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}"#;
            return respond(&mut stream, "401 Unauthorized", body);
        }
        let scopes: Vec<String> = query_values(query, "scope");
        let service = query_values(query, "service").pop().unwrap_or_default();
        let token = self.sign(&service, &scopes)?;
        issued.fetch_add(1, Ordering::SeqCst);
        respond(
            &mut stream,
            "200 OK",
            &format!(r#"{{"token":"{token}","expires_in":300}}"#),
        )
    }

    /// Builds and signs a JWT granting every action each scope asks for.
    fn sign(&self, service: &str, scopes: &[String]) -> std::io::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let access: Vec<String> = scopes.iter().filter_map(|s| access_claim(s)).collect();
        let header = format!(
            r#"{{"typ":"JWT","alg":"ES256","x5c":["{}"]}}"#,
            self.certificate
        );
        let claims = format!(
            r#"{{"iss":"{TOKEN_ISSUER}","sub":"{sub}","aud":"{aud}","exp":{exp},"nbf":{nbf},"iat":{now},"jti":"{now}-{n}","access":[{access}]}}"#,
            sub = json_escape(&self.username),
            aud = json_escape(service),
            exp = now + 300,
            nbf = now.saturating_sub(10),
            n = access.len(),
            access = access.join(","),
        );
        let signing_input = format!(
            "{}.{}",
            base64(header.as_bytes(), URL_SAFE),
            base64(claims.as_bytes(), URL_SAFE)
        );
        let mut child = Command::new("openssl")
            .current_dir(&self.root)
            .args(["dgst", "-sha256", "-sign", "token.key"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(signing_input.as_bytes())?;
        let output = child.wait_with_output()?;
        let signature = der_signature_to_raw(&output.stdout)
            .ok_or_else(|| std::io::Error::other("openssl returned a malformed ECDSA signature"))?;
        Ok(format!("{signing_input}.{}", base64(&signature, URL_SAFE)))
    }
}

/// `{"type":…,"name":…,"actions":[…]}` for a scope `type:name:action,action`.
fn access_claim(scope: &str) -> Option<String> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<String> = actions
        .split(',')
        .map(|a| format!("\"{}\"", json_escape(a)))
        .collect();
    Some(format!(
        r#"{{"type":"{}","name":"{}","actions":[{}]}}"#,
        json_escape(kind),
        json_escape(name),
        actions.join(",")
    ))
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    if status.starts_with("401") {
        head.push_str("WWW-Authenticate: Basic realm=\"clearbox-test-token\"\r\n");
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes())?;
    stream.flush()
}

/// The decoded values of `name` in an `application/x-www-form-urlencoded` query.
fn query_values(query: &str, name: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode(value))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Converts a DER `ECDSA-Sig-Value` (`SEQUENCE { INTEGER r, INTEGER s }`) for P-256 to the
/// 64-byte `r‖s` that JWS ES256 uses.
fn der_signature_to_raw(der: &[u8]) -> Option<[u8; 64]> {
    // The sequence of two 33-byte integers at most fits the short length form.
    let body = match der {
        [0x30, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        _ => return None,
    };
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut raw = [0u8; 64];
    let (r_half, s_half) = raw.split_at_mut(32);
    for (value, half) in [(r, r_half), (s, s_half)] {
        let value = strip_leading_zeros(value);
        if value.len() > 32 {
            return None;
        }
        half[32 - value.len()..].copy_from_slice(value);
    }
    Some(raw)
}

fn der_integer(der: &[u8]) -> Option<(&[u8], &[u8])> {
    match der {
        [0x02, len, rest @ ..] if usize::from(*len) <= rest.len() => {
            Some(rest.split_at(usize::from(*len)))
        }
        _ => None,
    }
}

fn strip_leading_zeros(mut value: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = value {
        value = rest;
    }
    value
}

/// A base64 alphabet and whether it pads.
#[derive(Clone, Copy)]
struct Alphabet(&'static [u8; 64], bool);

const STANDARD: Alphabet = Alphabet(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    true,
);
const URL_SAFE: Alphabet = Alphabet(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    false,
);

fn base64(data: &[u8], alphabet: Alphabet) -> String {
    let Alphabet(symbols, pad) = alphabet;
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let bits = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        let symbols_in_group = group.len() + 1;
        for i in 0..4 {
            if i < symbols_in_group {
                let index = (bits >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(symbols[index as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b"", STANDARD), "");
        assert_eq!(base64(b"f", STANDARD), "Zg==");
        assert_eq!(base64(b"fo", STANDARD), "Zm8=");
        assert_eq!(base64(b"foo", STANDARD), "Zm9v");
        assert_eq!(base64(b"foob", URL_SAFE), "Zm9vYg");
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8");
    }

    #[test]
    fn der_signature_with_padded_integers() {
        let mut der = vec![0x30, 0x45, 0x02, 0x21, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 0x20]);
        der.extend([0x01; 32]);
        let raw = der_signature_to_raw(&der).unwrap();
        assert_eq!(raw[..32], [0x80; 32]);
        assert_eq!(raw[32..], [0x01; 32]);
    }

    #[test]
    fn der_signature_with_short_integer() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07];
        let raw = der_signature_to_raw(&der).unwrap();
        assert_eq!(raw[31], 5);
        assert_eq!(raw[63], 7);
        assert!(raw[..31].iter().all(|b| *b == 0));
    }

    #[test]
    fn scope_becomes_access_claim() {
        assert_eq!(
            access_claim("repository:clearbox/example:pull,push").unwrap(),
            r#"{"type":"repository","name":"clearbox/example","actions":["pull","push"]}"#
        );
        assert_eq!(
            access_claim("registry:catalog:*").unwrap(),
            r#"{"type":"registry","name":"catalog","actions":["*"]}"#
        );
    }

    #[test]
    fn query_values_are_decoded() {
        let query = "service=s&scope=repository%3Aa%2Fb%3Apull%2Cpush&scope=x";
        assert_eq!(
            query_values(query, "scope"),
            ["repository:a/b:pull,push", "x"]
        );
    }
}
