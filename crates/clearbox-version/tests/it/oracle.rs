//! Random versions ordered by this crate and by the reference implementations:
//! `dpkg --compare-versions` and `dpkg --validate-version` for deb, rpm's Python binding
//! (`rpm.ver`, rpm 4.16 and later) for rpm, and pypa/packaging's `Version` for PEP 440.
//!
//! Versions come from proptest regex strategies with a fixed seed, so a failure reproduces.
//! The alphabets are small (digits 0-2, two letters, the scheme's special characters) so that
//! pairs often share prefixes and hit the tie-breaking rules. Each scheme's pairs go to one
//! process (a shell loop for dpkg, one Python process for rpm and packaging), which keeps the
//! test to a few seconds. `CLEARBOX_ORACLE_PAIRS` sets the number of pairs per scheme
//! (default 2000; dpkg gets a quarter, since it runs one process per pair).
//!
//! A missing tool skips the test with a notice outside CI and fails it in CI.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use clearbox_version::{Scheme, compare};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use crate::symbol;

/// How many disagreements a failure lists.
const SHOWN: usize = 20;

fn pair_count() -> usize {
    std::env::var("CLEARBOX_ORACLE_PAIRS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000)
}

/// Draws `count` strings from `regex` with a fixed seed.
fn draw(regex: &str, count: usize) -> Vec<String> {
    let strategy = proptest::string::string_regex(regex).expect("generator regex is valid");
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("strategy draws a value")
                .current()
        })
        .collect()
}

/// Pairs of versions: half from two independent draws, half with the right side a variant of
/// the left (same prefix, different tail), which exercises the tie rules.
fn pairs(regex: &str, count: usize) -> Vec<(String, String)> {
    let left = draw(regex, count);
    let right = draw(&format!("({regex})"), count * 2);
    left.into_iter()
        .zip(right.chunks(2))
        .enumerate()
        .map(|(index, (a, rights))| {
            if index % 2 == 0 {
                (a, rights[0].clone())
            } else {
                let cut = a.len() / 2;
                let prefix = a.get(..cut).unwrap_or(&a);
                let tail = rights[1].get(..3.min(rights[1].len())).unwrap_or("");
                let b = format!("{prefix}{}", tail.trim_start_matches(':'));
                (a, b)
            }
        })
        .collect()
}

/// Writes the pairs as tab-separated lines.
fn tsv(cases: &[(String, String)]) -> String {
    let mut out = String::new();
    for (a, b) in cases {
        out.push_str(a);
        out.push('\t');
        out.push_str(b);
        out.push('\n');
    }
    out
}

/// Runs `program` with `args`, feeds `input` on stdin and returns stdout, or `None` when the
/// program does not start.
fn run(program: &str, args: &[&str], input: &str) -> Option<Result<String, String>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("child runs to the end");
    writer
        .join()
        .expect("writer thread finishes")
        .expect("child reads its input");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Some(Ok(stdout))
    } else {
        Some(Err(format!(
            "{program} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// The oracle's answer for one pair: `<`, `=`, `>`, or `invalid` when it rejects a version.
fn check_answers(scheme: Scheme, pairs: &[(String, String)], answers: &str) {
    let answers: Vec<&str> = answers.lines().collect();
    assert_eq!(answers.len(), pairs.len(), "one oracle answer per pair");
    let mut failures = Vec::new();
    let (mut ordered, mut invalid) = (0, 0);
    for ((a, b), answer) in pairs.iter().zip(answers) {
        let ours = compare(scheme, a, b);
        let agrees = match (answer, &ours) {
            ("invalid", Err(_)) => {
                invalid += 1;
                true
            }
            (symbol_text, Ok(order)) => {
                ordered += 1;
                symbol(*order) == symbol_text
            }
            _ => false,
        };
        if !agrees {
            let ours = ours.map_or_else(|e| e.to_string(), |o| symbol(o).to_owned());
            failures.push(format!("`{a}` vs `{b}`: oracle {answer}, clearbox {ours}"));
        }
    }
    crate::notice(&format!(
        "{scheme} oracle: {ordered} pairs ordered, {invalid} rejected by both, {} disagree",
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{} of {} {scheme} pairs disagree with the oracle; the first:\n{}",
        failures.len(),
        pairs.len(),
        failures[..failures.len().min(SHOWN)].join("\n")
    );
}

/// Shell loop around dpkg: `--validate-version` on each side, then `--compare-versions`.
const DPKG_LOOP: &str = r#"
while IFS="$(printf '\t')" read -r a b; do
  if ! dpkg --validate-version -- "$a" 2>/dev/null || ! dpkg --validate-version -- "$b" 2>/dev/null; then
    echo invalid
  elif dpkg --compare-versions -- "$a" lt "$b"; then echo "<"
  elif dpkg --compare-versions -- "$a" eq "$b"; then echo "="
  else echo ">"
  fi
done
"#;

#[test]
fn deb_matches_dpkg() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        let _: Option<()> = clearbox_testdata::skip("dpkg is not installed; deb oracle skipped");
        return;
    }
    let count = pair_count() / 4;
    // Mostly valid versions, with a share of invalid ones (a leading letter, a stray colon).
    let mut cases = pairs("([0-2]:)?[0-9][0-2ab.+~]{0,5}(-[0-2ab.+~]{1,3})?", count);
    cases.extend(pairs("[0-2a:~.+-]{1,5}", count / 4));
    let input = tsv(&cases);
    let answers = run("sh", &["-c", DPKG_LOOP], &input)
        .expect("sh starts")
        .expect("dpkg loop runs");
    check_answers(Scheme::Deb, &cases, &answers);
}

/// Python that reads tab-separated pairs and prints one answer per line.
const RPM_SCRIPT: &str = r#"
import sys, rpm
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    try:
        va, vb = rpm.ver(a), rpm.ver(b)
    except Exception:
        print("invalid"); continue
    print("<" if va < vb else "=" if va == vb else ">")
"#;

#[test]
fn rpm_matches_rpm_labelcompare() {
    let python = "/usr/bin/python3";
    let probe = run(python, &["-c", "import rpm; rpm.ver"], "");
    if !matches!(probe, Some(Ok(_))) {
        let _: Option<()> = clearbox_testdata::skip(
            "python3-rpm is not installed (apt-get install python3-rpm); rpm oracle skipped",
        );
        return;
    }
    let cases = pairs(
        "([0-2]:)?[0-9][0-2ab.~^_+]{0,5}(-[0-2ab.~^_]{1,3})?",
        pair_count(),
    );
    let input = tsv(&cases);
    let answers = run(python, &["-c", RPM_SCRIPT], &input)
        .expect("python3 starts")
        .expect("rpm script runs");
    check_answers(Scheme::Rpm, &cases, &answers);
}

const PEP440_SCRIPT: &str = r#"
import sys
from packaging.version import Version, InvalidVersion
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        print("invalid"); continue
    print("<" if va < vb else "=" if va == vb else ">")
"#;

#[test]
fn pep440_matches_packaging() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let python = venv.join("bin/python");
    if !Path::new(&python).exists() {
        let _: Option<()> = clearbox_testdata::skip("the validator environment has no Python");
        return;
    }
    let version = concat!(
        "[vV]?([0-2]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}",
        "([-_.]?(a|b|c|rc|alpha|beta|pre|preview|RC)[-_.]?[0-9]{0,2})?",
        "([-_.]?(post|rev|r)[-_.]?[0-9]{0,2}|-[0-9])?",
        "([-_.]?dev[0-9]{0,2})?",
        "(\\+[a-z0-9]{1,3}([-_.][a-z0-9]{1,2})?)?"
    );
    let mut cases = pairs(version, pair_count());
    // Strings that are mostly not versions, to compare what each side rejects.
    cases.extend(pairs("[0-9a-z.+!_ -]{1,8}", pair_count() / 4));
    let input = tsv(&cases);
    let answers = run(&python.to_string_lossy(), &["-c", PEP440_SCRIPT], &input)
        .expect("python starts")
        .expect("packaging script runs");
    check_answers(Scheme::Pep440, &cases, &answers);
}

#[test]
fn oracle_pairs_share_prefixes() {
    let cases = pairs("[0-9]{4}", 10);
    assert_eq!(cases.len(), 10);
    let (a, b) = &cases[1];
    assert_eq!(a[..2], b[..2], "odd pairs share the left half");
}
