//! `signed_objects` in `clearbox webhook serve`: manifests signed with `clearbox sign-manifest`
//! sent as the API server sends them, with its defaults and server-set fields added, and the
//! approver and ticket read back from the audit store and from `clearbox audit query`.
//!
//! The policy sets no image rule, so no registry is involved: every decision comes from the
//! object's signature.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{assert_exit, clearbox_env, key_pair, stderr};
use crate::webhook::{Webhook, audit_records, message};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "signed objects test");

/// The image of every test object, named by digest so that its records carry the digest.
const DIGEST: &str = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

/// A user that is not a controller.
const DEPLOYER: &str = "system:serviceaccount:prod:deployer";

/// Returns a Deployment as written by hand, without defaults or server fields.
fn deployment(namespace: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": format!("registry.example/web@{DIGEST}"),
                    "ports": [{"containerPort": 8080}],
                }]},
            },
        },
    })
}

/// Adds what the API server adds to a Deployment before a validating webhook receives it:
/// system metadata, the annotation of `kubectl apply`, and the defaults of `apps/v1`.
fn as_received(object: &Value) -> Value {
    let mut object = object.clone();
    let metadata = &mut object["metadata"];
    metadata["uid"] = json!("3f6c2a4e-8d1b-4c55-9a0e-7b2d1e5f9c01");
    metadata["creationTimestamp"] = json!("2026-12-05T01:00:00Z");
    metadata["generation"] = json!(1);
    metadata["managedFields"] = json!([{"manager": "kubectl-client-side-apply",
                                        "operation": "Update", "apiVersion": "apps/v1"}]);
    metadata["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = json!("{}");
    let spec = &mut object["spec"];
    spec["revisionHistoryLimit"] = json!(10);
    spec["progressDeadlineSeconds"] = json!(600);
    spec["strategy"] = json!({"type": "RollingUpdate",
                              "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
    spec["template"]["metadata"]["creationTimestamp"] = Value::Null;
    let pod = &mut spec["template"]["spec"];
    for (field, value) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("securityContext", json!({})),
        ("schedulerName", json!("default-scheduler")),
    ] {
        pod[field] = value;
    }
    let container = &mut pod["containers"][0];
    container["imagePullPolicy"] = json!("IfNotPresent");
    container["resources"] = json!({});
    container["terminationMessagePath"] = json!("/dev/termination-log");
    container["terminationMessagePolicy"] = json!("File");
    container["ports"][0]["protocol"] = json!("TCP");
    object["status"] = json!({});
    object
}

/// Builds an `AdmissionReview` of a `CREATE` of `object` in `namespace`, sent by `user`.
fn review(uid: &str, namespace: &str, user: &str, object: &Value) -> Value {
    let kind = object["kind"].as_str().unwrap();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": kind},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": user},
            "object": object,
        },
    })
}

/// A directory with a manifest key, another key, a policy that requires signatures by the
/// first in `prod` and `team-*`, and the webhook serving it.
struct Setup {
    dir: tempfile::TempDir,
    key: String,
    other_key: String,
    public: String,
    webhook: Webhook,
}

impl Setup {
    fn start() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = key_pair(dir.path(), "manifests", PASSWORD);
        let (other_key, _) = key_pair(dir.path(), "other", PASSWORD);
        let policy = dir.path().join("policy.yaml");
        std::fs::write(
            &policy,
            format!(
                "apiVersion: clearbox.dev/v1\nkind: Policy\nsigned_objects:\n  \
                 - namespaces: [prod, \"team-*\"]\n    signers:\n      keys: [{public}]\n    \
                 required_claims: [approver, ticket]\n"
            ),
        )
        .unwrap();
        let webhook = Webhook::start(dir.path(), &policy, None);
        Setup {
            dir,
            key,
            other_key,
            public,
            webhook,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Signs `object` as the JSON file `name` with `key` and `claims`, and returns the signed
    /// object.
    fn sign(&self, name: &str, object: &Value, key: &str, claims: &[&str]) -> Value {
        let file = self.path(name);
        std::fs::write(&file, serde_json::to_string_pretty(object).unwrap()).unwrap();
        let mut args = vec!["sign-manifest", file.to_str().unwrap(), "--key", key];
        for claim in claims {
            args.extend(["--claim", claim]);
        }
        let out = clearbox_env(&args, &[PASSWORD]);
        assert_exit(&out, 0);
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
    }

    fn admit(&self, uid: &str, namespace: &str, user: &str, object: &Value) -> Value {
        self.webhook.admit(&review(uid, namespace, user, object))
    }

    /// Returns the records of request `uid` in the audit store.
    fn records(&self, uid: &str) -> Vec<Value> {
        audit_records(&self.path("audit.db"))
            .into_iter()
            .filter(|record| record["actor"] == uid)
            .collect()
    }
}

const CLAIMS: [&str; 2] = ["approver=alice", "ticket=CHG-1234"];

#[test]
fn signed_deployment_allowed_and_recorded() {
    let setup = Setup::start();
    let signed = setup.sign("web.json", &deployment("prod"), &setup.key, &CLAIMS);

    // As written, and as the API server passes it on with its defaults.
    for (uid, object) in [
        ("as-written", signed.clone()),
        ("as-received", as_received(&signed)),
    ] {
        let response = setup.admit(uid, "prod", DEPLOYER, &object);
        assert_eq!(response["allowed"], true, "{uid}: {}", message(&response));
    }

    let records = setup.records("as-received");
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["decision"], "allowed");
    assert_eq!(record["workload"], "prod/Deployment/web");
    assert_eq!(record["digest"], DIGEST);
    assert_eq!(record["claims"]["approver"], "alice");
    assert_eq!(record["claims"]["ticket"], "CHG-1234");
    assert_eq!(record["signer"], setup.public.as_str());
    let reasons = record["reasons"].to_string();
    assert!(reasons.contains("signed_objects"), "{reasons}");
    assert!(reasons.contains("approver=alice"), "{reasons}");

    // `audit query --image` lists the record with its approver.
    let store = format!("sqlite://{}", setup.path("audit.db").display());
    let out = clearbox_env(
        &["audit", "query", "--image", DIGEST],
        &[("CLEARBOX_AUDIT_STORE", store.as_str())],
    );
    assert_exit(&out, 0);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let approvers: Vec<&Value> = answer["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| &record["claims"]["approver"])
        .collect();
    assert_eq!(approvers, [&json!("alice"), &json!("alice")], "{answer}");
}

#[test]
fn unsigned_and_modified_objects_denied() {
    let setup = Setup::start();
    let signed = setup.sign("web.json", &deployment("prod"), &setup.key, &CLAIMS);

    // No signature: denied with the rule's entry and the command that signs.
    let response = setup.admit("unsigned", "prod", DEPLOYER, &deployment("prod"));
    assert_eq!(response["allowed"], false);
    let text = message(&response);
    assert!(
        text.contains(
            "`signed_objects` entry at line 4: `Deployment/prod/web` has no \
                       `signature.clearbox.dev/dsse` annotation"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "fix: sign the manifest with one of the entry's keys, `clearbox sign-manifest"
        ),
        "{text}"
    );
    let records = setup.records("unsigned");
    assert_eq!(records[0]["decision"], "denied");
    assert!(records[0].get("claims").is_none(), "{:?}", records[0]);

    // A `team-*` namespace is covered too.
    let response = setup.admit("team", "team-ml", DEPLOYER, &deployment("team-ml"));
    assert_eq!(response["allowed"], false, "{}", message(&response));

    // A changed image or replica count, among the server's defaults, is named.
    let mut image = as_received(&signed);
    image["spec"]["template"]["spec"]["containers"][0]["image"] = json!("evil.example/miner:1");
    let mut replicas = as_received(&signed);
    replicas["spec"]["replicas"] = json!(20);
    for (uid, object, field) in [
        (
            "image",
            image,
            "`spec.template.spec.containers[0].image` changed since signing",
        ),
        (
            "replicas",
            replicas,
            "`spec.replicas` changed since signing",
        ),
    ] {
        let response = setup.admit(uid, "prod", DEPLOYER, &object);
        assert_eq!(response["allowed"], false, "{uid}");
        let text = message(&response);
        assert!(text.contains(field), "{uid}: {text}");
        assert!(text.contains("differs from what key"), "{uid}: {text}");
    }

    // A default value that is not the default is a change.
    let mut policy = as_received(&signed);
    policy["spec"]["template"]["spec"]["dnsPolicy"] = json!("None");
    let response = setup.admit("dns", "prod", DEPLOYER, &policy);
    assert_eq!(response["allowed"], false);
    assert!(
        message(&response).contains("`spec.template.spec.dnsPolicy` added since signing"),
        "{}",
        message(&response)
    );
}

#[test]
fn other_namespace_needs_no_signature() {
    let setup = Setup::start();
    let response = setup.admit("dev", "dev", DEPLOYER, &deployment("dev"));
    assert_eq!(response["allowed"], true, "{}", message(&response));
    let records = setup.records("dev");
    assert_eq!(records[0]["decision"], "allowed");
    assert!(records[0].get("claims").is_none(), "{:?}", records[0]);
    assert!(records[0].get("signer").is_none(), "{:?}", records[0]);
}

#[test]
fn wrong_key_and_missing_claim_denied() {
    let setup = Setup::start();
    let other = setup.sign("other.json", &deployment("prod"), &setup.other_key, &CLAIMS);
    let response = setup.admit("other-key", "prod", DEPLOYER, &other);
    assert_eq!(response["allowed"], false);
    let text = message(&response);
    assert!(
        text.contains("has a signature that no key of the entry verifies"),
        "{text}"
    );
    assert!(text.contains(&format!("key `{}`", setup.public)), "{text}");

    let no_ticket = setup.sign(
        "no-ticket.json",
        &deployment("prod"),
        &setup.key,
        &["approver=alice"],
    );
    let response = setup.admit("no-ticket", "prod", DEPLOYER, &no_ticket);
    assert_eq!(response["allowed"], false);
    let text = message(&response);
    assert!(
        text.contains(
            "lacks the required claim(s) `ticket`; sign it again with `--claim ticket=VALUE`"
        ),
        "{text}"
    );
}

#[test]
fn controller_pods_exempt_only_from_controller() {
    let setup = Setup::start();
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web-7d4b9c-x2x9z",
            "namespace": "prod",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": "web-7d4b9c", "uid": "9a1e", "controller": true}],
        },
        "spec": {"containers": [{"name": "web", "image": format!("registry.example/web@{DIGEST}")}]},
    });
    let controller = "system:serviceaccount:kube-system:replicaset-controller";
    let response = setup.admit("from-controller", "prod", controller, &pod);
    assert_eq!(response["allowed"], true, "{}", message(&response));
    let reasons = setup.records("from-controller")[0]["reasons"].to_string();
    assert!(
        reasons.contains("made it from its owner `ReplicaSet/web-7d4b9c`"),
        "{reasons}"
    );

    // A ReplicaSet is covered through Deployment: one written by hand needs a signature, and
    // the deployment controller's needs none.
    let mut replica_set = deployment("prod");
    replica_set["kind"] = json!("ReplicaSet");
    replica_set["metadata"]["name"] = json!("web-7d4b9c");
    let response = setup.admit("replicaset-by-hand", "prod", DEPLOYER, &replica_set);
    assert_eq!(response["allowed"], false, "{}", message(&response));
    replica_set["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1",
        "kind": "Deployment", "name": "web", "uid": "3f6c", "controller": true}]);
    let deployment_controller = "system:serviceaccount:kube-system:deployment-controller";
    let response = setup.admit("replicaset", "prod", deployment_controller, &replica_set);
    assert_eq!(response["allowed"], true, "{}", message(&response));

    // The same owner reference written by a person proves nothing.
    let response = setup.admit("from-person", "prod", DEPLOYER, &pod);
    assert_eq!(response["allowed"], false);
    assert!(
        message(&response).contains("has no `signature.clearbox.dev/dsse` annotation"),
        "{}",
        message(&response)
    );
}

#[test]
fn missing_object_key_stops_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: clearbox.dev/v1\nkind: Policy\nsigned_objects:\n  - namespaces: [prod]\n    \
         signers: {keys: [missing.pub]}\n",
    )
    .unwrap();
    let out = clearbox_env(
        &[
            "webhook",
            "serve",
            "--policy",
            policy.to_str().unwrap(),
            "--tls-cert",
            "missing-cert.pem",
            "--tls-key",
            "missing-key.pem",
            "--store",
            &format!("sqlite://{}", dir.path().join("audit.db").display()),
        ],
        &[],
    );
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(
        text.contains("failed to load the key `missing.pub` named in the policy"),
        "{text}"
    );
}
