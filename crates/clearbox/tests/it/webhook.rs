//! `clearbox webhook serve` as the API server reaches it: the real binary on a free loopback
//! port with a self-signed certificate made by `openssl req -x509`, `AdmissionReview`s sent with
//! `curl`, and a real registry holding a signed and an unsigned image. The audit store it
//! writes is checked with `clearbox audit verify` and read back with SQLite. The deploy
//! manifests are checked against the restricted Pod Security Standard.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clearbox_testdata::registry::{RegistryConfig, RegistryServer};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{assert_exit, clearbox, clearbox_env, corpus, key_pair, stderr, workspace};

pub(crate) const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "webhook test");

/// A running `clearbox webhook serve`, killed by its PID on drop.
pub(crate) struct Webhook {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) dir: PathBuf,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes a self-signed certificate for `IP:127.0.0.1` in `dir`: `cert.pem` and `key.pem`. It
/// states `CA:FALSE`, since rustls rejects a CA certificate presented as a server's.
fn make_certificate(dir: &Path) {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Webhook {
    /// Starts the webhook with the policy file `policy` and the audit store `dir/audit.db`,
    /// reaching `registry` over plain HTTP, and waits until it serves.
    pub(crate) fn start(dir: &Path, policy: &Path, registry: Option<&str>) -> Webhook {
        Webhook::start_with_timeout(dir, policy, registry, 30)
    }

    /// Starts the webhook as [`Webhook::start`] does, with `--timeout SECONDS`.
    fn start_with_timeout(
        dir: &Path,
        policy: &Path,
        registry: Option<&str>,
        seconds: u64,
    ) -> Webhook {
        let seconds = seconds.to_string();
        Webhook::start_with_args(dir, policy, registry, &["--timeout", &seconds], &[])
    }

    /// Starts the webhook as [`Webhook::start`] does, with the extra arguments `args` and the
    /// extra environment variables `env`.
    pub(crate) fn start_with_args(
        dir: &Path,
        policy: &Path,
        registry: Option<&str>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Webhook {
        make_certificate(dir);
        let log = std::fs::File::create(dir.join("webhook.log")).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_clearbox"));
        command
            .args(["webhook", "serve", "--policy"])
            .arg(policy)
            .arg("--tls-cert")
            .arg(dir.join("cert.pem"))
            .arg("--tls-key")
            .arg(dir.join("key.pem"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--store")
            .arg(format!("sqlite://{}", dir.join("audit.db").display()))
            .env("XDG_STATE_HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env_remove("CLEARBOX_AUDIT_STORE")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(host) = registry {
            command.args(["--insecure-registry", host]);
        }
        let mut child = command.spawn().expect("the clearbox binary runs");

        // The bound port is printed once the server accepts connections.
        let deadline = Instant::now() + Duration::from_secs(30);
        let prefix = "serving admission reviews on https://127.0.0.1:";
        loop {
            let text = std::fs::read_to_string(dir.join("webhook.log")).unwrap_or_default();
            if let Some(rest) = text.split(prefix).nth(1) {
                let port = rest.split('/').next().unwrap().parse().unwrap();
                return Webhook {
                    child,
                    port,
                    dir: dir.to_owned(),
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the webhook exited with {status}:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "the webhook did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `body` to `path` with curl over HTTP/1.1, trusting only the test certificate.
    /// Returns the status code and the response body.
    pub(crate) fn request(&self, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let out_file = self.dir.join("response.body");
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--http1.1", "--max-time", "60", "--cacert"])
            .arg(self.dir.join("cert.pem"))
            .arg("-o")
            .arg(&out_file)
            .args(["-w", "%{http_code}"]);
        if let Some(body) = body {
            let body_file = self.dir.join("request.body");
            std::fs::write(&body_file, body).unwrap();
            command
                .args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(format!("@{}", body_file.display()));
        }
        let output = command
            .arg(format!("https://127.0.0.1:{}{path}", self.port))
            .output()
            .expect("curl runs");
        let code = String::from_utf8_lossy(&output.stdout).parse().unwrap_or(0);
        let text = std::fs::read_to_string(&out_file).unwrap_or_default();
        let _ = std::fs::remove_file(&out_file);
        (code, text)
    }

    /// Sends an `AdmissionReview` and returns its `response`.
    pub(crate) fn admit(&self, review: &Value) -> Value {
        let (code, text) = self.request("/validate", Some(review.to_string().as_bytes()));
        assert_eq!(code, 200, "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(value["kind"], "AdmissionReview");
        value["response"].clone()
    }

    /// Returns the value of one counter sample of `/metrics`, such as `name{label="x"}`; 0 when
    /// absent.
    pub(crate) fn metric(&self, sample: &str) -> u64 {
        let (code, text) = self.request("/metrics", None);
        assert_eq!(code, 200);
        text.lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
            .map_or(0, |value| value.parse().unwrap())
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("webhook.log")).unwrap_or_default()
    }
}

/// Builds an `AdmissionReview` of a `CREATE` in namespace `prod`.
pub(crate) fn review(uid: &str, kind: &str, object: &Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:prod:deployer"},
            "object": object,
        },
    })
}

pub(crate) fn pod(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "prod"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    })
}

pub(crate) fn message(response: &Value) -> &str {
    response["status"]["message"].as_str().unwrap_or_default()
}

fn sha256_of(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// Starts a registry with the corpus test image as `trusted/app:v1`, signed, and as
/// `trusted/unsigned:v1`, unsigned. Both have the same digest, returned with the server.
fn signed_registry(dir: &Path) -> Option<(RegistryServer, String, String)> {
    let corpus = corpus()?;
    let server = RegistryServer::start(RegistryConfig::default())?;
    let layout = corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci");
    let source = format!("oci:{}", layout.display());
    for target in ["trusted/app:v1", "trusted/unsigned:v1"] {
        server.push_layout(&source, target, None)?;
    }
    let (key, public) = key_pair(dir, "release", PASSWORD);
    let host = server.host_port();
    let out = clearbox_env(
        &[
            "sign",
            &format!("docker://{host}/trusted/app:v1"),
            "--key",
            &key,
            "--insecure-registry",
            &host,
            "--audit-store",
            "none",
        ],
        &[PASSWORD],
    );
    assert_exit(&out, 0);
    let text = stderr(&out);
    let at = text.find("@sha256:").expect("sign names the digest") + 1;
    let digest = text[at..at + 71].to_owned();
    Some((server, public, digest))
}

/// Returns a port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port()
}

/// The webhook with a policy that trusts `HOST/trusted`, requires a digest and a signature by
/// the test key, and the names of the images it is tried on.
struct Scenario {
    webhook: Webhook,
    registry: Option<RegistryServer>,
    host: String,
    digest: String,
    policy: PathBuf,
    /// `HOST/trusted/app@DIGEST`, signed.
    signed: String,
    /// `HOST/trusted/unsigned@DIGEST`: the same digest in a repository without signatures.
    unsigned: String,
}

impl Scenario {
    fn start(dir: &Path) -> Option<Scenario> {
        let (registry, public, digest) = signed_registry(dir)?;
        let host = registry.host_port();
        let policy = dir.join("policy.yaml");
        std::fs::write(
            &policy,
            format!(
                "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [{host}/trusted]\n\
                 signers:\n  keys: [{public}]\ndeny_latest_tag: true\nrequire_digest: true\n"
            ),
        )
        .unwrap();
        let webhook = Webhook::start(dir, &policy, Some(&host));
        Some(Scenario {
            webhook,
            signed: format!("{host}/trusted/app@{digest}"),
            unsigned: format!("{host}/trusted/unsigned@{digest}"),
            registry: Some(registry),
            host,
            digest,
            policy,
        })
    }

    /// Checks that a signed image is allowed, and that the same digest without signatures is denied, also as the
    /// init container of a `CronJob`.
    fn signatures(&self) {
        let webhook = &self.webhook;
        let response = webhook.admit(&review("uid-signed", "Pod", &pod("web", &self.signed)));
        assert_eq!(response["uid"], "uid-signed");
        assert_eq!(response["allowed"], true, "{response}");
        assert_eq!(webhook.metric("clearbox_webhook_cache_misses_total"), 1);

        let unsigned = &self.unsigned;
        let response = webhook.admit(&review("uid-unsigned", "Pod", &pod("web", unsigned)));
        assert_eq!(response["uid"], "uid-unsigned");
        assert_eq!(response["allowed"], false, "{response}");
        assert_eq!(response["status"]["code"], 403);
        let text = message(&response);
        assert!(text.contains(&format!("image `{unsigned}`")), "{text}");
        assert!(
            text.contains("signers failed: 0 of 1 signers signed"),
            "{text}"
        );
        assert!(text.contains("fix: sign the image"), "{text}");

        let cronjob = json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "run", "image": self.signed}],
                "initContainers": [{"name": "setup", "image": unsigned}],
            }}}}},
        });
        let response = webhook.admit(&review("uid-cron", "CronJob", &cronjob));
        assert_eq!(response["allowed"], false, "{response}");
        let text = message(&response);
        assert!(
            text.starts_with("`prod/CronJob/nightly` is denied"),
            "{text}"
        );
        assert!(text.contains("initContainers/setup image"), "{text}");
        assert!(!text.contains("containers/run image"), "{text}");
    }

    /// Checks that an untrusted registry on a closed port is denied by the allowlist without
    /// being contacted. A tag without a digest, or no tag, fails the reference rules.
    fn reference_rules(&self) {
        let webhook = &self.webhook;
        let misses = webhook.metric("clearbox_webhook_cache_misses_total");
        let untrusted = format!("127.0.0.1:{}/trusted/app@{}", closed_port(), self.digest);
        let response = webhook.admit(&review("uid-untrusted", "Pod", &pod("web", &untrusted)));
        assert_eq!(response["allowed"], false, "{response}");
        let text = message(&response);
        assert!(text.contains("trusted_registries failed:"), "{text}");
        assert!(
            text.contains("is not inside any trusted registry"),
            "{text}"
        );
        assert!(!text.contains("failed to read the image"), "{text}");
        assert_eq!(
            webhook.metric("clearbox_webhook_cache_misses_total"),
            misses
        );
        assert_eq!(
            webhook.metric("clearbox_webhook_verification_errors_total"),
            0
        );

        let tagged = format!("{}/trusted/app:v1", self.host);
        let response = webhook.admit(&review("uid-tag", "Pod", &pod("web", &tagged)));
        assert_eq!(response["allowed"], false, "{response}");
        let text = message(&response);
        assert!(text.contains("require_digest failed"), "{text}");
        assert!(!text.contains("deny_latest_tag failed"), "{text}");
        let untagged = format!("{}/trusted/app", self.host);
        let response = webhook.admit(&review("uid-latest", "Pod", &pod("web", &untagged)));
        let text = message(&response);
        assert!(text.contains("deny_latest_tag failed"), "{text}");
    }

    /// Checks that malformed and oversized bodies are rejected with their reason and counted.
    fn bodies(&self) {
        let webhook = &self.webhook;
        let (code, text) = webhook.request("/validate", Some(b"{\"apiVersion\": "));
        assert_eq!(code, 400);
        assert!(
            text.starts_with("the body is not an AdmissionReview"),
            "{text}"
        );
        let wrong = json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview"});
        let (code, text) = webhook.request("/validate", Some(wrong.to_string().as_bytes()));
        assert_eq!(code, 400);
        assert!(text.contains("admissionReviewVersions: [v1]"), "{text}");
        let oversized = vec![b' '; 4 * 1024 * 1024];
        let (code, _) = webhook.request("/validate", Some(&oversized));
        assert_eq!(code, 413);
        let requests = "clearbox_webhook_requests_total";
        assert_eq!(webhook.metric(&format!("{requests}{{code=\"400\"}}")), 2);
        assert_eq!(webhook.metric(&format!("{requests}{{code=\"413\"}}")), 1);
    }

    /// Checks that with the registry stopped, the signed digest is still allowed from the cache, and a
    /// digest never verified is denied because its registry cannot be reached.
    fn registry_stopped(&mut self) {
        let webhook = &self.webhook;
        let hits = webhook.metric("clearbox_webhook_cache_hits_total");
        drop(self.registry.take());
        let response = webhook.admit(&review("uid-cached", "Pod", &pod("web", &self.signed)));
        assert_eq!(response["allowed"], true, "{response}");
        assert_eq!(
            webhook.metric("clearbox_webhook_cache_hits_total"),
            hits + 1
        );

        let other = format!("{}/trusted/app@sha256:{}", self.host, "1".repeat(64));
        let response = webhook.admit(&review("uid-unreachable", "Pod", &pod("web", &other)));
        assert_eq!(response["allowed"], false, "{response}");
        let text = message(&response);
        assert!(
            text.contains("signers could-not-check: failed to read the image"),
            "{text}"
        );
        assert!(
            text.contains("fix: the webhook denies what it cannot verify"),
            "{text}"
        );
        assert_eq!(
            webhook.metric("clearbox_webhook_verification_errors_total"),
            1
        );
    }

    /// Checks the counters of the whole scenario.
    fn counters(&self) {
        let webhook = &self.webhook;
        let decisions = "clearbox_webhook_decisions_total";
        assert_eq!(
            webhook.metric(&format!("{decisions}{{result=\"allowed\"}}")),
            2
        );
        assert_eq!(
            webhook.metric(&format!("{decisions}{{result=\"denied\"}}")),
            6
        );
        assert_eq!(
            webhook.metric("clearbox_webhook_request_duration_seconds_count"),
            11
        );
    }

    /// Checks that every decision is in the audit store, one record per image, and that its
    /// chain is intact.
    fn audit(self) {
        let log = self.webhook.log();
        let store = self.webhook.dir.join("audit.db");
        drop(self.webhook);
        let out = clearbox(&[
            "audit",
            "verify",
            "--audit-store",
            &format!("sqlite://{}", store.display()),
        ]);
        assert_exit(&out, 0);

        let records = audit_records(&store);
        let admissions: Vec<&Value> = records
            .iter()
            .filter(|r| r["kind"] == "admission")
            .collect();
        // Eight admissions, and the CronJob has two images.
        assert_eq!(admissions.len(), 9, "{records:?}\n{log}");

        let first = admissions[0];
        assert_eq!(first["actor"], "uid-signed");
        assert_eq!(first["workload"], "prod/Pod/web");
        assert_eq!(first["image"], self.signed.as_str());
        assert_eq!(first["digest"], self.digest.as_str());
        assert_eq!(first["decision"], "allowed");
        assert_eq!(first["policy_digest"], sha256_of(&self.policy).as_str());

        let unsigned = admissions[1];
        assert_eq!(unsigned["actor"], "uid-unsigned");
        assert_eq!(unsigned["decision"], "denied");
        let reasons = unsigned["reasons"].to_string();
        assert!(
            reasons.contains("signers: 0 of 1 signers signed"),
            "{reasons}"
        );
        let cron: Vec<&&Value> = admissions
            .iter()
            .filter(|r| r["actor"] == "uid-cron")
            .collect();
        assert_eq!(cron.len(), 2);
        assert!(cron.iter().all(|r| r["workload"] == "prod/CronJob/nightly"));
    }
}

#[test]
fn webhook_admits_signed_and_denies_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut scenario) = Scenario::start(dir.path()) else {
        return;
    };
    scenario.signatures();
    scenario.reference_rules();
    scenario.bodies();
    scenario.registry_stopped();
    scenario.counters();
    scenario.audit();
}

/// Reads every record of an audit store, as stored.
pub(crate) fn audit_records(store: &Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(store).unwrap();
    let mut statement = conn
        .prepare("SELECT record FROM audit_record ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .map(|text| serde_json::from_str(&text.unwrap()).unwrap())
        .collect()
}

/// Sends SIGHUP to the webhook by its PID and waits until a reload counter changes.
fn reload(webhook: &Webhook) {
    let before = webhook.metric("clearbox_webhook_policy_reloads_total{result=\"succeeded\"}")
        + webhook.metric("clearbox_webhook_policy_reloads_total{result=\"failed\"}");
    let status = Command::new("kill")
        .args(["-HUP", &webhook.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..400 {
        let after = webhook.metric("clearbox_webhook_policy_reloads_total{result=\"succeeded\"}")
            + webhook.metric("clearbox_webhook_policy_reloads_total{result=\"failed\"}");
        if after > before {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the webhook did not reload:\n{}", webhook.log());
}

#[test]
fn webhook_reloads_policy_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let allow_a = "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [a.example]\n";
    std::fs::write(&policy, allow_a).unwrap();
    let webhook = Webhook::start(dir.path(), &policy, None);
    let image = "a.example/app:v1";
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    });
    let response = webhook.admit(&review("uid-1", "Deployment", &deployment));
    assert_eq!(response["allowed"], true, "{response}");

    // A policy that does not parse is logged, and the one in force stays.
    std::fs::write(
        &policy,
        "apiVersion: clearbox.dev/v1\nkind: Policy\nunknown: 1\n",
    )
    .unwrap();
    reload(&webhook);
    assert_eq!(
        webhook.metric("clearbox_webhook_policy_reloads_total{result=\"failed\"}"),
        1
    );
    assert!(
        webhook
            .log()
            .contains("failed to reload the policy; the one in force stays"),
        "{}",
        webhook.log()
    );
    let response = webhook.admit(&review("uid-2", "Deployment", &deployment));
    assert_eq!(response["allowed"], true, "{response}");

    // A valid new policy takes effect as a whole.
    let allow_b = "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [b.example]\n";
    std::fs::write(&policy, allow_b).unwrap();
    reload(&webhook);
    assert_eq!(
        webhook.metric("clearbox_webhook_policy_reloads_total{result=\"succeeded\"}"),
        1
    );
    let response = webhook.admit(&review("uid-3", "Deployment", &deployment));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.contains("`a.example/app` is not inside any trusted registry (`b.example`)"),
        "{text}"
    );

    // Objects without a pod template and deletions are allowed without checks.
    let config_map = json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}});
    let response = webhook.admit(&review("uid-4", "ConfigMap", &config_map));
    assert_eq!(response["allowed"], true, "{response}");
    let (code, text) = webhook.request("/healthz", None);
    assert_eq!((code, text.as_str()), (200, "ok\n"));
    let (code, _) = webhook.request("/readyz", None);
    assert_eq!(code, 200);
}

#[test]
fn webhook_fails_closed() {
    // A registry that accepts connections and never responds: the listener is never accepted
    // from, so the client waits for a response until the webhook's deadline.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = silent.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let public = dir.path().join("release.pub");
    key_pair(dir.path(), "release", PASSWORD);
    std::fs::write(
        &policy,
        format!(
            "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [{host}]\n\
             signers:\n  keys: [{}]\n",
            public.display()
        ),
    )
    .unwrap();
    let webhook = Webhook::start_with_timeout(dir.path(), &policy, Some(&host), 1);

    // Verification that does not finish by the deadline denies, naming the deadline.
    let image = format!("{host}/app@sha256:{}", "2".repeat(64));
    let response = webhook.admit(&review("uid-slow", "Pod", &pod("web", &image)));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.contains(
            "signers could-not-check: verification did not finish within the deadline of 1 s"
        ),
        "{text}"
    );
    assert_eq!(
        webhook.metric("clearbox_webhook_verification_errors_total"),
        1
    );

    drop(silent);
}

#[test]
fn webhook_denies_unrecorded_admission() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let text = "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [a.example]\n";
    std::fs::write(&policy, text).unwrap();
    let webhook = Webhook::start(dir.path(), &policy, None);
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a.example/app:v1"},
        ]}}},
    });
    let response = webhook.admit(&review("uid-recorded", "Deployment", &deployment));
    assert_eq!(response["allowed"], true, "{response}");

    // Another connection holds the store's write lock past the store's busy timeout, so the
    // same admission cannot be recorded and is denied.
    let store = rusqlite::Connection::open(dir.path().join("audit.db")).unwrap();
    store.execute_batch("BEGIN IMMEDIATE").unwrap();
    let response = webhook.admit(&review("uid-locked", "Deployment", &deployment));
    assert_eq!(response["allowed"], false, "{response}");
    let text = message(&response);
    assert!(
        text.contains("denied because the decision could not be recorded in the audit store"),
        "{text}"
    );
    assert_eq!(webhook.metric("clearbox_webhook_audit_errors_total"), 1);

    // Once the lock is released, admissions are recorded and allowed again.
    store.execute_batch("ROLLBACK").unwrap();
    let response = webhook.admit(&review("uid-unlocked", "Deployment", &deployment));
    assert_eq!(response["allowed"], true, "{response}");
    drop(webhook);
    let actors: Vec<Value> = audit_records(&dir.path().join("audit.db"))
        .iter()
        .map(|record| record["actor"].clone())
        .collect();
    assert_eq!(actors, [json!("uid-recorded"), json!("uid-unlocked")]);
}

#[test]
fn deploy_manifests_pass_restricted_pss() {
    let manifests = workspace().join("deploy/kubernetes");
    let out = clearbox(&[
        "check",
        "k8s",
        "--pss",
        "restricted",
        manifests.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
}

/// The rescan Job's pods take shards `0/N` to `N-1/N`, which `rescan --shard` must accept.
#[test]
fn rescan_job_shards_match_cli() {
    let text = std::fs::read_to_string(workspace().join("deploy/kubernetes/rescan-job.yaml"))
        .expect("deploy/kubernetes/rescan-job.yaml exists");
    let job = text
        .split("\n---\n")
        .find(|document| document.contains("\nkind: Job\n"))
        .expect("the file has a Job");
    let field = |prefix: &str| -> u64 {
        let line = job.lines().find_map(|line| line.strip_prefix(prefix));
        line.unwrap_or_else(|| panic!("no `{prefix}` in\n{job}"))
            .parse()
            .unwrap()
    };
    let completions = field("  completions: ");
    assert!(job.contains("\n  completionMode: Indexed\n"), "{job}");
    assert_eq!(field("  parallelism: "), completions);
    let shard = format!("\n            - --shard=$(JOB_COMPLETION_INDEX)/{completions}\n");
    assert!(job.contains(&shard), "no `{}` in\n{job}", shard.trim());

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("missing.db");
    for (index, accepted) in [(0, true), (completions - 1, true), (completions, false)] {
        let argument = format!("{index}/{completions}");
        let out = clearbox(&["rescan", "--shard", &argument, "--db", db.to_str().unwrap()]);
        // Every run exits 2: an accepted shard fails later, because the database is missing.
        assert_exit(&out, 2);
        assert_eq!(
            stderr(&out).contains("is not a shard"),
            !accepted,
            "{argument}: {}",
            stderr(&out)
        );
    }
}

/// Returns the lines of `text` from the line `start` up to, not including, the next line with
/// the same indentation or less.
fn block<'a>(text: &'a str, start: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|line| *line == start)
        .unwrap_or_else(|| panic!("no line `{start}` in\n{text}"));
    let indent = start.len() - start.trim_start().len();
    let mut block = vec![lines[first]];
    for line in &lines[first + 1..] {
        let depth = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && depth <= indent {
            break;
        }
        block.push(line);
    }
    block
}

#[test]
fn helm_chart_matches_manifests() {
    let deploy = workspace().join("deploy");
    let read = |path: &str| std::fs::read_to_string(deploy.join(path)).unwrap();
    let manifest = read("kubernetes/deployment.yaml");
    let chart = read("helm/clearbox-webhook/templates/deployment.yaml");
    for start in [
        "      securityContext:",
        "          securityContext:",
        "          readinessProbe:",
        "          livenessProbe:",
        "          volumeMounts:",
        "          env:",
    ] {
        assert_eq!(block(&manifest, start), block(&chart, start), "{start}");
    }
    let manifest = read("kubernetes/validatingwebhookconfiguration.yaml");
    let chart = read("helm/clearbox-webhook/templates/validatingwebhookconfiguration.yaml");
    assert_eq!(block(&manifest, "    rules:"), block(&chart, "    rules:"));
    let values = read("helm/clearbox-webhook/values.yaml");
    assert!(values.contains("  failurePolicy: Fail\n"), "{values}");
    assert!(manifest.contains("    failurePolicy: Fail\n"), "{manifest}");
}
