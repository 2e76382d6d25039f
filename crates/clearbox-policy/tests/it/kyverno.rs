//! Kyverno's pod-security policies (`kyverno-policies/pod-security`), each of which implements
//! one Pod Security Standards control or level. Their tests name the expected verdicts in two
//! forms, and both are read here:
//! - chainsaw tests (`.chainsaw-test/chainsaw-test.yaml`): each file applied with
//!   `expect: ($error != null): true` must be rejected, every other applied file admitted;
//! - CLI tests (`.kyverno-test/kyverno-test.yaml`): a `pass` or `fail` result per resource name.
//!
//! Every resource is checked with clearbox at restricted, latest version, and only the failures
//! of the controls the policy implements count (of the rule, where a CLI result names one).
//! Where a policy deliberately differs from the standard, [`by_design`] states the reason and
//! verifies it on the resource. clearbox then gives the standard's verdict, not Kyverno's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clearbox_policy::k8s::yaml::{Node, parse_documents};
use clearbox_policy::k8s::{CheckResult, Control, K8sReport, Level, ManifestFile, Version};

use crate::support::{check, k8s_corpus, pss_options, read, require, split};

/// The failures that count for a policy.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// Failures of these controls.
    Controls(&'static [Control]),
    /// Every control of the level (Kyverno's `podSecurity` subrule).
    Level(Level),
    /// Restricted, except failures of the Capabilities controls for containers whose image
    /// matches one of the globs (`podSecurity.exclude` with `images`).
    RestrictedExceptCapabilitiesFor(&'static [&'static str]),
    /// Restricted, except every Seccomp failure (excluded at pod level and for image `*`).
    RestrictedExceptSeccomp,
}

/// The scope of each policy, by directory name.
fn scope(policy: &str) -> Scope {
    use Control::*;
    match policy {
        "disallow-capabilities" => Scope::Controls(&[CapabilitiesBaseline]),
        "disallow-host-namespaces" => Scope::Controls(&[HostNamespaces]),
        "disallow-host-path" => Scope::Controls(&[HostPathVolumes]),
        "disallow-host-ports" | "disallow-host-ports-range" => Scope::Controls(&[HostPorts]),
        "disallow-host-process" => Scope::Controls(&[HostProcess]),
        "disallow-privileged-containers" => Scope::Controls(&[Privileged]),
        "disallow-proc-mount" => Scope::Controls(&[ProcMountBaseline]),
        "disallow-selinux" => Scope::Controls(&[SeLinux]),
        "restrict-apparmor-profiles" => Scope::Controls(&[AppArmor]),
        "restrict-seccomp" => Scope::Controls(&[SeccompBaseline]),
        "restrict-sysctls" => Scope::Controls(&[Sysctls]),
        "disallow-capabilities-strict" => Scope::Controls(&[CapabilitiesRestricted]),
        "disallow-privilege-escalation" => Scope::Controls(&[PrivilegeEscalation]),
        "require-run-as-non-root-user" => Scope::Controls(&[RunAsUser]),
        "require-run-as-nonroot" => Scope::Controls(&[RunAsNonRoot]),
        "restrict-seccomp-strict" => Scope::Controls(&[SeccompRestricted]),
        "restrict-volume-types" => Scope::Controls(&[VolumeTypes]),
        "podsecurity-subrule-baseline" => Scope::Level(Level::Baseline),
        "restricted-latest" => Scope::Level(Level::Restricted),
        "restricted-exclude-capabilities" => {
            Scope::RestrictedExceptCapabilitiesFor(&["ghcr.io/kyverno/test-nginx*", "redis*"])
        }
        "restricted-exclude-seccomp" => Scope::RestrictedExceptSeccomp,
        other => panic!("no scope for Kyverno policy `{other}`; add it to `scope`"),
    }
}

/// Why Kyverno's verdict differs from the standard's for a case, when it does by design. Each
/// reason is verified on the resource rather than assumed, so an unrelated disagreement in the
/// same policy still fails the test.
fn by_design(case: &Case) -> Option<&'static str> {
    let document = &case.resource.documents[0];
    match (case.policy.as_str(), case.rejected) {
        // The policy is a variant: it admits host ports 5000 to 6000, which the standard forbids
        // like any other host port.
        ("disallow-host-ports-range", false)
            if host_ports(document)
                .iter()
                .all(|port| *port == 0 || (5000..=6000).contains(port)) =>
        {
            Some("the policy admits host ports 5000-6000; the standard admits none")
        }
        // The policy predates v1.35, from which the standard allows any /proc mount type in a
        // pod with its own user namespace. clearbox agrees with Kyverno at v1.34.
        ("disallow-proc-mount", true)
            if mentions(document, "hostUsers", "false") && rejects_at(case, 34) =>
        {
            Some("from v1.35 the standard allows Unmasked /proc with hostUsers: false")
        }
        // The policy's SELinux type list predates v1.31, which added `container_engine_t`.
        // clearbox agrees with Kyverno at v1.30.
        ("disallow-selinux", true)
            if mentions(document, "type", "container_engine_t") && rejects_at(case, 30) =>
        {
            Some("from v1.31 the standard allows SELinux type container_engine_t")
        }
        _ => None,
    }
}

/// True when clearbox rejects the case at restricted `v1.minor`.
fn rejects_at(case: &Case, minor: u32) -> bool {
    let report = check(
        &case.resource,
        &pss_options(Level::Restricted, Version::new(minor)),
    );
    report
        .failures()
        .any(|f| counts(scope(&case.policy), case.rule.as_deref(), f))
}

/// Every `hostPort` value anywhere in a document.
fn host_ports(node: &Node) -> Vec<i64> {
    let mut ports = Vec::new();
    visit(node, &mut |key, value| {
        if let ("hostPort", clearbox_policy::k8s::yaml::Value::Integer(port)) = (key, &value.value)
        {
            ports.push(*port);
        }
    });
    ports
}

/// True when some `key` in the document has the scalar `text` (booleans as `true`/`false`).
fn mentions(node: &Node, key: &str, text: &str) -> bool {
    let mut found = false;
    visit(node, &mut |k, value| {
        let matches = match &value.value {
            clearbox_policy::k8s::yaml::Value::String(s) => s == text,
            clearbox_policy::k8s::yaml::Value::Bool(b) => b.to_string() == text,
            _ => false,
        };
        found |= k == key && matches;
    });
    found
}

/// Calls `f` with every key and value of every mapping under `node`.
fn visit(node: &Node, f: &mut dyn FnMut(&str, &Node)) {
    match &node.value {
        clearbox_policy::k8s::yaml::Value::Mapping(entries) => {
            for entry in entries {
                f(&entry.key, &entry.value);
                visit(&entry.value, f);
            }
        }
        clearbox_policy::k8s::yaml::Value::Sequence(items) => {
            for item in items {
                visit(item, f);
            }
        }
        _ => {}
    }
}

/// Matches `text` against a glob whose only wildcard is `*`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(tail) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob_matches(rest, &tail[i..]))
        }
    }
}

/// True when a failure counts under `scope` and, when a CLI result names one, the policy rule.
/// The two-rule policies split one control by field: capabilities into dropping `ALL` and
/// adding, `SELinux` into the type and the user or role.
fn counts(scope: Scope, rule: Option<&str>, failure: &CheckResult) -> bool {
    let field = failure.field.as_str();
    let last = field.rsplit('.').next().unwrap_or_default();
    let in_rule = match rule {
        Some("require-drop-all") => field.ends_with("capabilities.drop"),
        Some("adding-capabilities-strict") => field.contains("capabilities.add"),
        Some("selinux-type") => field.ends_with("seLinuxOptions.type"),
        Some("selinux-user-role") => matches!(last, "user" | "role"),
        _ => true,
    };
    in_rule && counts_in_scope(scope, failure)
}

fn counts_in_scope(scope: Scope, failure: &CheckResult) -> bool {
    let id = failure.check;
    let capabilities = [
        Control::CapabilitiesBaseline.id(),
        Control::CapabilitiesRestricted.id(),
    ];
    let seccomp = [
        Control::SeccompBaseline.id(),
        Control::SeccompRestricted.id(),
    ];
    match scope {
        Scope::Controls(controls) => controls.iter().any(|c| c.id() == id),
        Scope::Level(Level::Baseline) => Control::ALL
            .iter()
            .any(|c| c.id() == id && c.level() == Level::Baseline),
        Scope::Level(Level::Restricted) => id.starts_with("pss-"),
        Scope::RestrictedExceptCapabilitiesFor(globs) => {
            let excluded = capabilities.contains(&id)
                && failure
                    .image
                    .as_deref()
                    .is_some_and(|image| globs.iter().any(|g| glob_matches(g, image)));
            id.starts_with("pss-") && !excluded
        }
        Scope::RestrictedExceptSeccomp => id.starts_with("pss-") && !seccomp.contains(&id),
    }
}

/// One resource with Kyverno's expected verdict.
#[derive(Debug)]
struct Case {
    policy: String,
    file: PathBuf,
    kind: String,
    name: String,
    /// The policy rule a CLI result names; chainsaw tests judge the whole policy.
    rule: Option<String>,
    rejected: bool,
    resource: ManifestFile,
}

fn name_of(object: &Node) -> (String, String) {
    let text = |node: Option<&Node>| node.and_then(Node::as_str).unwrap_or_default().to_owned();
    (
        text(object.get("kind")),
        text(object.get("metadata").and_then(|m| m.get("name"))),
    )
}

/// Reads a YAML file with clearbox's parser.
fn documents(path: &Path) -> Vec<Node> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The resource files a chainsaw test applies, each with whether it expects an error.
fn chainsaw_files(test: &Path) -> Vec<(PathBuf, bool)> {
    let mut files = Vec::new();
    let dir = test.parent().unwrap();
    for document in documents(test) {
        let steps = document.get("spec").and_then(|s| s.get("steps"));
        for step in sequence(steps) {
            for operation in sequence(step.get("try")) {
                for verb in ["apply", "create"] {
                    let Some(action) = operation.get(verb) else {
                        continue;
                    };
                    let Some(file) = action.get("file").and_then(Node::as_str) else {
                        continue;
                    };
                    // `../policy.yaml` installs the policy under test.
                    if file.starts_with("../") {
                        continue;
                    }
                    let expects_error = sequence(action.get("expect")).iter().any(|e| {
                        e.get("check")
                            .and_then(|c| c.get("($error != null)"))
                            .is_some_and(|v| {
                                v.value == clearbox_policy::k8s::yaml::Value::Bool(true)
                            })
                    });
                    files.push((dir.join(file), expects_error));
                }
            }
        }
    }
    files
}

fn sequence(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(clearbox_policy::k8s::yaml::Value::Sequence(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Every case of the chainsaw tests.
fn chainsaw_cases(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for test in find(root, "chainsaw-test.yaml") {
        let policy = policy_name(&test);
        for (path, rejected) in chainsaw_files(&test) {
            for resource in split(&read(&path)) {
                let (kind, name) = name_of(&resource.documents[0]);
                cases.push(Case {
                    policy: policy.clone(),
                    file: path.clone(),
                    kind,
                    name,
                    rule: None,
                    rejected,
                    resource,
                });
            }
        }
    }
    cases
}

/// Every case of the CLI tests.
fn cli_cases(root: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for test in find(root, "kyverno-test.yaml") {
        let policy = policy_name(&test);
        let dir = test.parent().unwrap();
        let document = documents(&test).remove(0);
        let mut resources = Vec::new();
        for file in sequence(document.get("resources")) {
            let path = dir.join(file.as_str().unwrap());
            resources.extend(split(&read(&path)).into_iter().map(|r| (path.clone(), r)));
        }
        for result in sequence(document.get("results")) {
            let text = |key| result.get(key).and_then(Node::as_str).unwrap().to_owned();
            let (kind, verdict, rule) = (text("kind"), text("result"), text("rule"));
            for name in sequence(result.get("resources")) {
                let name = name.as_str().unwrap();
                let (path, resource) = resources
                    .iter()
                    .find(|(_, r)| name_of(&r.documents[0]) == (kind.clone(), name.to_owned()))
                    .unwrap_or_else(|| panic!("{}: no {kind} `{name}`", test.display()));
                cases.push(Case {
                    policy: policy.clone(),
                    file: path.clone(),
                    kind: kind.clone(),
                    name: name.to_owned(),
                    rule: Some(rule.clone()),
                    rejected: verdict == "fail",
                    resource: resource.clone(),
                });
            }
        }
    }
    cases
}

/// The policy a test belongs to: the directory above `.chainsaw-test` or `.kyverno-test`.
fn policy_name(test: &Path) -> String {
    let dir = test.parent().and_then(Path::parent).unwrap();
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// Files named `name` under `dir`, sorted.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(find(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            found.push(path);
        }
    }
    found
}

/// clearbox's verdict for a case: rejected when any failure counts under the policy's scope.
fn clearbox_rejects(case: &Case) -> (bool, Vec<String>) {
    let report: K8sReport = check(
        &case.resource,
        &pss_options(Level::Restricted, Version::LATEST),
    );
    assert_eq!(report.resources.len(), 1, "{case:?}");
    let scope = scope(&case.policy);
    let counted: Vec<String> = report
        .failures()
        .filter(|f| counts(scope, case.rule.as_deref(), f) || f.check == "k8s-pod-spec-valid")
        .map(|f| format!("{} at {}: {}", f.check, f.field, f.message))
        .collect();
    (!counted.is_empty(), counted)
}

/// Compares every case; returns how many agree, how many differ by design, and the
/// disagreements that no reason explains.
fn compare(cases: &[Case]) -> (usize, usize, Vec<String>) {
    let mut agreed = 0;
    let mut designed = BTreeMap::<&str, usize>::new();
    let mut problems = Vec::new();
    for case in cases {
        let (rejects, failures) = clearbox_rejects(case);
        if rejects == case.rejected {
            agreed += 1;
        } else if let Some(reason) = by_design(case) {
            *designed.entry(reason).or_default() += 1;
        } else {
            problems.push(format!(
                "{} {} {}/{}: Kyverno {}, clearbox {} {failures:?}",
                case.policy,
                case.file.display(),
                case.kind,
                case.name,
                if case.rejected { "rejects" } else { "admits" },
                if rejects { "rejects" } else { "admits" },
            ));
        }
    }
    for (reason, count) in &designed {
        println!("  {count} differ by design: {reason}");
    }
    (agreed, designed.values().sum(), problems)
}

#[test]
fn chainsaw_tests_agree() {
    let corpus = require!(k8s_corpus());
    let cases = chainsaw_cases(&corpus.join("kyverno-policies/pod-security"));
    assert!(
        cases.len() > 500,
        "only {} chainsaw cases found",
        cases.len()
    );
    assert!(cases.iter().any(|c| c.rejected) && cases.iter().any(|c| !c.rejected));
    let (agreed, designed, problems) = compare(&cases);
    println!(
        "Kyverno chainsaw resources: {agreed} of {} agree, {designed} differ by design",
        cases.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn cli_tests_agree() {
    let corpus = require!(k8s_corpus());
    let cases = cli_cases(&corpus.join("kyverno-policies/pod-security"));
    assert!(
        cases.len() > 300,
        "only {} CLI test cases found",
        cases.len()
    );
    let (agreed, designed, problems) = compare(&cases);
    println!(
        "Kyverno CLI test resources: {agreed} of {} agree, {designed} differ by design",
        cases.len()
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn globs_match_like_kyverno() {
    assert!(glob_matches("redis*", "redis:7"));
    assert!(glob_matches(
        "ghcr.io/kyverno/test-nginx*",
        "ghcr.io/kyverno/test-nginx:1.2"
    ));
    assert!(!glob_matches("redis*", "docker.io/redis"));
    assert!(glob_matches("*", "anything"));
}
