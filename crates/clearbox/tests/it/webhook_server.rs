//! `clearbox webhook serve` as a server under stress. The tests cover seals of the audit store
//! every N records and at SIGTERM, and decisions that survive SIGKILL during concurrent load.
//! They also cover slow and silent clients cut off by the header read timeout, the cap on open
//! connections, and the message when the audit store fails. Clients are curl, `openssl
//! s_client` and raw TCP sockets on loopback.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{assert_exit, clearbox, key_pair, stderr};
use crate::webhook::{PASSWORD, Webhook, audit_records, message, pod, review};

/// How long a test waits for something the server does on its own before it gives up. It only
/// keeps a broken server from hanging the test; no assertion depends on it.
const PATIENCE: Duration = Duration::from_mins(1);

/// Writes a policy that admits images of `a.example` and denies all others, without any
/// registry access.
fn trusting_policy(dir: &Path) -> std::path::PathBuf {
    let policy = dir.join("policy.yaml");
    let text = "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [a.example]\n";
    std::fs::write(&policy, text).unwrap();
    policy
}

/// Polls `/metrics` until `sample` reaches `value`.
fn wait_for_metric(webhook: &Webhook, sample: &str, value: u64) {
    let deadline = Instant::now() + PATIENCE;
    while webhook.metric(sample) < value {
        assert!(
            Instant::now() < deadline,
            "{sample} did not reach {value}:\n{}",
            webhook.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` to exit; `None` when it is still running after [`PATIENCE`].
fn wait_for_exit(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Sends SIGTERM to the webhook and waits for it to exit.
fn stop(webhook: &mut Webhook) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &webhook.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_exit(&mut webhook.child)
        .unwrap_or_else(|| panic!("the webhook did not stop:\n{}", webhook.log()))
}

/// Runs `clearbox audit verify --key PUBLIC --json` on `store`.
fn verify_sealed(store: &Path, public: &str) -> (std::process::Output, Value) {
    let out = clearbox(&[
        "audit",
        "verify",
        "--audit-store",
        &format!("sqlite://{}", store.display()),
        "--key",
        public,
        "--json",
    ]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, report)
}

#[test]
fn webhook_seals_every_n_records_and_at_stop() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let (key, public) = key_pair(dir.path(), "seal", PASSWORD);
    let args = ["--seal-key", key.as_str(), "--seal-every", "3"];
    let mut webhook = Webhook::start_with_args(dir.path(), &policy, None, &args, &[PASSWORD]);
    assert!(
        webhook
            .log()
            .contains("sealed every 3 records and at shutdown"),
        "{}",
        webhook.log()
    );

    // Seven admissions; the seals run in the background, so each is awaited before the next
    // admission to fix its place in the chain.
    let seals = "clearbox_webhook_seals_total{result=\"succeeded\"}";
    for number in 1..=7 {
        let uid = format!("uid-{number}");
        let response = webhook.admit(&review(&uid, "Pod", &pod("web", "a.example/app:v1")));
        assert_eq!(response["allowed"], true, "{response}");
        if number % 3 == 0 {
            wait_for_metric(&webhook, seals, number / 3);
        }
    }
    assert_eq!(webhook.metric(seals), 2);
    assert_eq!(
        webhook.metric("clearbox_webhook_seals_total{result=\"failed\"}"),
        0
    );

    // SIGTERM appends the last seal over the seventh admission.
    let status = stop(&mut webhook);
    assert!(status.success(), "{status}\n{}", webhook.log());
    let store = dir.path().join("audit.db");
    let records = audit_records(&store);
    let kinds: Vec<&str> = records
        .iter()
        .map(|record| record["kind"].as_str().unwrap())
        .collect();
    let admission = "admission";
    let expected = [
        admission, admission, admission, "seal", admission, admission, admission, "seal",
        admission, "seal",
    ];
    assert_eq!(kinds, expected);
    for seq in [4, 8, 10] {
        let seal = &records[seq - 1];
        assert_eq!(seal["seq"], seq);
        assert_eq!(seal["decision"], "sealed");
        let actor = seal["actor"].as_str().unwrap();
        assert!(actor.starts_with("clearbox-webhook"), "{actor}");
    }
    assert_eq!(records[4]["actor"], "uid-4");

    let (out, report) = verify_sealed(&store, &public);
    assert_exit(&out, 0);
    assert_eq!(report["records"], 10);
    assert_eq!(report["seals_verified"], 3);
    assert_eq!(report["sealed_through"], 10);
    assert_eq!(report["unsealed"], 0);
    assert!(
        stderr(&out).contains("3 seals verified, the last at record 10; 0 records after it"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn webhook_without_seal_key_appends_no_seal() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let mut webhook = Webhook::start(dir.path(), &policy, None);
    assert!(
        webhook.log().contains("not sealed by the webhook"),
        "{}",
        webhook.log()
    );
    let response = webhook.admit(&review("uid-1", "Pod", &pod("web", "a.example/app:v1")));
    assert_eq!(response["allowed"], true, "{response}");
    assert!(stop(&mut webhook).success());
    let kinds: Vec<Value> = audit_records(&dir.path().join("audit.db"))
        .iter()
        .map(|record| record["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("admission")]);
}

#[test]
fn webhook_seal_failure_keeps_admitting() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let (key, _) = key_pair(dir.path(), "seal", PASSWORD);
    let args = ["--seal-key", key.as_str(), "--seal-every", "3"];
    let mut webhook = Webhook::start_with_args(dir.path(), &policy, None, &args, &[PASSWORD]);
    let pod = pod("web", "a.example/app:v1");
    for uid in ["uid-1", "uid-2"] {
        let response = webhook.admit(&review(uid, "Pod", &pod));
        assert_eq!(response["allowed"], true, "{response}");
    }

    // A changed first record breaks the chain, so no seal may vouch for it. Appends still
    // work, since they check only the last record.
    let store = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    store
        .execute(
            "UPDATE audit_record SET record = replace(record, '\"uid-1\"', '\"uid-x\"') \
             WHERE seq = 1",
            [],
        )
        .unwrap();
    drop(store);
    let response = webhook.admit(&review("uid-3", "Pod", &pod));
    assert_eq!(response["allowed"], true, "{response}");
    wait_for_metric(
        &webhook,
        "clearbox_webhook_seals_total{result=\"failed\"}",
        1,
    );
    assert_eq!(
        webhook.metric("clearbox_webhook_seals_total{result=\"succeeded\"}"),
        0
    );
    assert!(
        webhook.log().contains("failed to seal the audit store"),
        "{}",
        webhook.log()
    );
    assert!(
        webhook
            .log()
            .contains("cannot seal: its chain is broken at row 1"),
        "{}",
        webhook.log()
    );
    let response = webhook.admit(&review("uid-4", "Pod", &pod));
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(webhook.metric("clearbox_webhook_audit_errors_total"), 0);

    // At shutdown the failed last seal is an error: the store is left unsealed.
    let status = stop(&mut webhook);
    assert_eq!(status.code(), Some(2), "{}", webhook.log());
    assert!(
        webhook
            .log()
            .contains("the audit store could not be sealed at shutdown"),
        "{}",
        webhook.log()
    );
}

/// Sends one `AdmissionReview` with curl, trusting only the webhook's certificate. Returns the
/// response's `allowed`, or `None` when no whole response arrived.
fn admit_once(port: u16, cert: &Path, review: &Value) -> Option<bool> {
    let mut child = Command::new("curl")
        .args(["-sS", "--http1.1", "--max-time", "60", "--cacert"])
        .arg(cert)
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ])
        .args(["-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{port}/validate"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("curl runs");

    // curl exits when the server is killed mid-request, which makes this write fail; curl's
    // exit status then reports the failure.
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(review.to_string().as_bytes());
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    if !output.status.success() {
        return None;
    }

    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n')?;
    if code != "200" {
        return None;
    }
    let value: Value = serde_json::from_str(body).ok()?;
    value["response"]["allowed"].as_bool()
}

#[test]
fn webhook_sigkill_keeps_decisions_sent() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let (key, public) = key_pair(dir.path(), "seal", PASSWORD);
    let args = ["--seal-key", key.as_str(), "--seal-every", "5"];
    let mut webhook = Webhook::start_with_args(dir.path(), &policy, None, &args, &[PASSWORD]);
    let port = webhook.port;
    let cert = dir.path().join("cert.pem");

    // Four clients send admissions until the server is gone: even numbers name an image the
    // policy trusts, odd numbers one it does not. Each uid that got a response is kept with
    // its decision.
    let responses: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let stopped = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (responses, stopped, cert) =
                (Arc::clone(&responses), Arc::clone(&stopped), cert.clone());
            std::thread::spawn(move || {
                for number in 0.. {
                    let uid = format!("uid-{client}-{number}");
                    let image = if number % 2 == 0 {
                        "a.example/app:v1"
                    } else {
                        "b.example/app:v1"
                    };
                    let review = review(&uid, "Pod", &pod("web", image));
                    match admit_once(port, &cert, &review) {
                        Some(allowed) => responses.lock().unwrap().push((uid, allowed)),
                        None if stopped.load(Ordering::SeqCst) => return,
                        None => {}
                    }
                }
            })
        })
        .collect();

    // Kill once there are responses on both sides of a seal, with the clients still sending.
    let deadline = Instant::now() + PATIENCE;
    while responses.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "{}", webhook.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_metric(
        &webhook,
        "clearbox_webhook_seals_total{result=\"succeeded\"}",
        1,
    );
    stopped.store(true, Ordering::SeqCst);
    webhook.child.kill().unwrap();
    webhook.child.wait().unwrap();
    for client in clients {
        client.join().unwrap();
    }

    // The chain is intact and sealed by the key up to some record before the kill.
    let store = dir.path().join("audit.db");
    let url = format!("sqlite://{}", store.display());
    let (out, report) = verify_sealed(&store, &public);
    assert_exit(&out, 0);
    assert!(report["seals_verified"].as_u64().unwrap() >= 1, "{report}");

    // Every decision that got a response is in the store as sent.
    let segment = dir.path().join("segment.jsonl");
    let out = clearbox(&[
        "audit",
        "export",
        "--audit-store",
        &url,
        "--from",
        "2000-01-01",
        "--to",
        "2999-12-31",
        "--output",
        segment.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(&segment).unwrap();
    let recorded: std::collections::HashMap<String, String> = text
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|record| record["kind"] == "admission")
        .map(|record| {
            let actor = record["actor"].as_str().unwrap().to_owned();
            (actor, record["decision"].as_str().unwrap().to_owned())
        })
        .collect();
    let responses = responses.lock().unwrap();
    assert!(responses.len() >= 40);
    for (uid, allowed) in responses.iter() {
        let expected = if *allowed { "allowed" } else { "denied" };
        assert_eq!(
            recorded.get(uid).map(String::as_str),
            Some(expected),
            "{uid}"
        );
    }
    let allowed = responses.iter().filter(|(_, allowed)| *allowed).count();
    assert!(allowed > 0, "{responses:?}");
    assert!(allowed < responses.len(), "{responses:?}");
}

/// Reads from `stream` until the server closes it. Returns whether it did, rather than the
/// read timing out after [`PATIENCE`].
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return true,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Starts `openssl s_client` on the webhook, with `input` written to it and stdin kept open.
fn tls_client(webhook: &Webhook, input: &[u8]) -> (Child, std::process::ChildStdin) {
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(format!("127.0.0.1:{}", webhook.port))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    stdin.flush().unwrap();
    (child, stdin)
}

#[test]
fn webhook_header_read_timeout_closes_slow_clients() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let args = ["--header-read-timeout", "1", "--timeout", "1"];
    let webhook = Webhook::start_with_args(dir.path(), &policy, None, &args, &[]);

    // A TCP connection that never starts the TLS handshake.
    let mut silent = TcpStream::connect(("127.0.0.1", webhook.port)).unwrap();
    assert!(closed_by_server(&mut silent), "{}", webhook.log());

    // After the handshake: no request, half a request line, and an idle keep-alive connection
    // after one served request. In each case the server closes the connection, and
    // s_client exits although its stdin stays open.
    let cases: [(&str, &[u8]); 4] = [
        ("no request", b""),
        ("half a request", b"POST /validate HTTP/1.1\r\nHo"),
        (
            "stalled body",
            b"POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{",
        ),
        (
            "idle keep-alive",
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ),
    ];
    for (case, input) in cases {
        let (mut client, stdin) = tls_client(&webhook, input);
        let status = wait_for_exit(&mut client);
        drop(stdin);
        if status.is_none() {
            let _ = client.kill();
        }
        let mut output = String::new();
        client
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut output)
            .unwrap();
        assert!(status.is_some(), "{case}: the connection stayed open");
        if case == "idle keep-alive" {
            assert!(output.starts_with("HTTP/1.1 200 OK"), "{output}");
            assert!(output.ends_with("\r\n\r\nok\n"), "{output}");
        } else if case == "stalled body" {
            assert!(
                output.starts_with("HTTP/1.1 408 Request Timeout"),
                "{output}"
            );
            assert!(
                output.contains("the request body did not arrive within 1s of its headers"),
                "{output}"
            );
        } else {
            assert_eq!(output, "", "{case}");
        }
    }
}

#[test]
fn webhook_caps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    // A header read timeout longer than the test keeps the idle connections open.
    let args = ["--max-connections", "2", "--header-read-timeout", "600"];
    let webhook = Webhook::start_with_args(dir.path(), &policy, None, &args, &[]);

    // Two idle connections take both places; a third request waits behind them.
    let first = TcpStream::connect(("127.0.0.1", webhook.port)).unwrap();
    let second = TcpStream::connect(("127.0.0.1", webhook.port)).unwrap();
    let mut third = Command::new("curl")
        .args(["-sS", "--max-time", "120", "--cacert"])
        .arg(webhook.dir.join("cert.pem"))
        .arg(format!("https://127.0.0.1:{}/healthz", webhook.port))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl runs");
    // A served request takes milliseconds; this only gives a server without the cap the
    // chance to respond, which would fail the next assertion.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        third.try_wait().unwrap().is_none(),
        "a third connection was served while two were open"
    );

    // Once they close, the waiting request is served.
    drop(first);
    drop(second);
    let status = wait_for_exit(&mut third);
    if status.is_none() {
        let _ = third.kill();
    }
    let output = third.wait_with_output().unwrap();
    assert!(
        status.is_some_and(|status| status.success()),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok\n");
    assert_eq!(webhook.metric("clearbox_webhook_open_connections"), 1);
}

#[test]
fn webhook_unrecorded_admission_names_store_once() {
    let dir = tempfile::tempdir().unwrap();
    let policy = trusting_policy(dir.path());
    let webhook = Webhook::start(dir.path(), &policy, None);
    let pod = pod("web", "a.example/app:v1");
    let response = webhook.admit(&review("uid-1", "Pod", &pod));
    assert_eq!(response["allowed"], true, "{response}");

    // A changed last record cannot be extended, so the next decision cannot be recorded.
    let path = dir.path().join("audit.db");
    let store = rusqlite::Connection::open(&path).unwrap();
    store
        .execute(
            "UPDATE audit_record SET record = replace(record, '\"allowed\"', '\"denied\"') \
             WHERE seq = 1",
            [],
        )
        .unwrap();
    drop(store);
    let response = webhook.admit(&review("uid-2", "Pod", &pod));
    assert_eq!(response["allowed"], false, "{response}");
    let expected = format!(
        "denied because the decision could not be recorded in the audit store (audit store \
         `{}`: its last record cannot be extended (record 1 does not match its hash or \
         position); run `clearbox audit verify` to find the damage); the webhook admits nothing \
         unrecorded, so fix the store",
        path.display()
    );
    assert_eq!(message(&response), expected);
    assert_eq!(webhook.metric("clearbox_webhook_audit_errors_total"), 1);
}
