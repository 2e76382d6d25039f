//! Version ordering checked against the corpus of comparison vectors from dpkg, rpm, apk-tools,
//! pypa/packaging, node-semver, golang.org/x/mod and Maven, plus osv-scalibr's cases and lists
//! of real advisory versions (the only source for RubyGems, NuGet and Packagist).
//!
//! The corpus directory comes from `clearbox_testdata::corpus`. Without the corpus the tests
//! print a notice and pass, except when `CI=true`, where they fail.
//!
//! Every row is checked. A row whose corpus result this crate deliberately does not return is
//! listed in its module with the reason, and the test checks the behaviour that replaces it
//! (usually that the version is rejected as invalid).

mod apk;
mod deb;
mod go;
mod maven;
mod nuget;
mod oracle;
mod packagist;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use clearbox_version::{Scheme, Version, VersionError};

/// How many disagreeing rows a failure message lists.
const SHOWN_FAILURES: usize = 20;

/// Returns the corpus's `versions/` directory, or `None` after a notice when the corpus is
/// missing outside CI.
fn versions_dir() -> Option<PathBuf> {
    clearbox_testdata::corpus().map(|corpus| corpus.join("versions"))
}

#[allow(
    clippy::print_stderr,
    reason = "test summaries and skip notices go to the test log"
)]
fn notice(message: &str) {
    eprintln!("{message}");
}

/// Undoes the corpus's `\t`, `\n` and `\\` escapes.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// One data row of a corpus TSV file, with its 1-based line number.
struct Row {
    line: usize,
    fields: Vec<String>,
}

impl Row {
    fn field(&self, index: usize) -> &str {
        self.fields.get(index).map_or("", String::as_str)
    }
}

/// Reads the data rows of `versions/<name>`, or `None` when the corpus is missing.
fn read_rows(name: &str) -> Option<Vec<Row>> {
    let path = versions_dir()?.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()));
    let rows = text
        .lines()
        .enumerate()
        .skip(1)
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| Row {
            line: index + 1,
            fields: line.split('\t').map(unescape).collect(),
        })
        .collect();
    Some(rows)
}

/// One comparison row: `left op right source note`.
struct Pair {
    line: usize,
    left: String,
    expected: Ordering,
    right: String,
    note: String,
}

fn read_pairs(name: &str) -> Option<Vec<Pair>> {
    let rows = read_rows(name)?;
    let pairs = rows
        .into_iter()
        .map(|row| {
            let expected = match row.field(1) {
                "<" => Ordering::Less,
                "=" => Ordering::Equal,
                ">" => Ordering::Greater,
                other => panic!("{name}:{}: unknown operator `{other}`", row.line),
            };
            Pair {
                line: row.line,
                left: row.field(0).to_owned(),
                expected,
                right: row.field(2).to_owned(),
                note: row.field(4).to_owned(),
            }
        })
        .collect();
    Some(pairs)
}

fn symbol(order: Ordering) -> &'static str {
    match order {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

/// Counts checked rows and collects disagreements, so one failure reports all of them.
struct Tally {
    file: &'static str,
    /// Rows where this crate returns the corpus result.
    agreed: usize,
    /// Rows listed as exceptions that behave as their reason documents.
    documented: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new(file: &'static str) -> Tally {
        Tally {
            file,
            agreed: 0,
            documented: 0,
            failures: Vec::new(),
        }
    }

    fn fail(&mut self, line: usize, message: impl Into<String>) {
        self.failures
            .push(format!("{}:{line}: {}", self.file, message.into()));
    }

    fn fail_file(&mut self, message: impl Into<String>) {
        self.failures
            .push(format!("{}: {}", self.file, message.into()));
    }

    /// Prints the counts and fails with the first disagreements, if any.
    fn finish(self) {
        notice(&format!(
            "{}: {} rows agree, {} rows differ as documented, {} disagree",
            self.file,
            self.agreed,
            self.documented,
            self.failures.len()
        ));
        let total = self.agreed + self.documented + self.failures.len();
        let listed = self.failures.len().min(SHOWN_FAILURES);
        assert!(
            self.failures.is_empty(),
            "{} of {total} rows in {} disagree; the first {listed}:\n{}",
            self.failures.len(),
            self.file,
            self.failures[..listed].join("\n")
        );
    }
}

/// Corpus results this crate deliberately does not return, each with its reason.
#[derive(Default)]
struct Exceptions {
    /// Versions that must be rejected, with the reason.
    rejected: HashMap<String, &'static str>,
    /// Pairs whose order differs from the corpus: our order and the reason.
    reordered: HashMap<(String, String), (Ordering, &'static str)>,
}

impl Exceptions {
    /// Expects every version in `versions` to be rejected as invalid.
    fn rejecting(mut self, reason: &'static str, versions: &[&str]) -> Exceptions {
        for version in versions {
            self.rejected.insert((*version).to_owned(), reason);
        }
        self
    }

    /// Expects each `(left, order, right)` row to come out in `order` instead of the corpus's.
    fn reordering(mut self, reason: &'static str, pairs: &[(&str, Ordering, &str)]) -> Exceptions {
        for (left, order, right) in pairs {
            let key = ((*left).to_owned(), (*right).to_owned());
            self.reordered.insert(key, (*order, reason));
        }
        self
    }
}

/// Checks every pair. Pairs listed in `exceptions` are checked against the documented
/// behaviour instead of the corpus result.
fn check_pairs<V>(
    tally: &mut Tally,
    pairs: &[Pair],
    exceptions: &Exceptions,
    parse: impl Fn(&str) -> Result<V, VersionError>,
    order: impl Fn(&V, &V) -> Ordering,
) {
    for pair in pairs {
        let listed =
            [&pair.left, &pair.right].map(|version| exceptions.rejected.get(version.as_str()));
        if listed.iter().any(Option::is_some) {
            check_rejected_pair(tally, pair, listed, &parse);
            continue;
        }

        let (left, right) = match (parse(&pair.left), parse(&pair.right)) {
            (Ok(left), Ok(right)) => (left, right),
            (Err(error), _) | (_, Err(error)) => {
                tally.fail(pair.line, error.to_string());
                continue;
            }
        };
        let forward = order(&left, &right);
        let backward = order(&right, &left);
        let key = (pair.left.clone(), pair.right.clone());
        let (expected, reason) = match exceptions.reordered.get(&key) {
            Some((ours, reason)) => (*ours, Some(*reason)),
            None => (pair.expected, None),
        };
        if forward != expected || backward != expected.reverse() {
            let documented = reason.map_or_else(String::new, |reason| format!(" ({reason})"));
            tally.fail(
                pair.line,
                format!(
                    "expected `{}` {} `{}`{documented}, got {} (reversed: {})",
                    pair.left,
                    symbol(expected),
                    pair.right,
                    symbol(forward),
                    symbol(backward)
                ),
            );
        } else if reason.is_some() {
            tally.documented += 1;
        } else {
            tally.agreed += 1;
        }
    }
    check_exceptions_used(tally, pairs, exceptions);
}

/// Fails for every listed exception that matches no pair, so stale entries do not pile up.
fn check_exceptions_used(tally: &mut Tally, pairs: &[Pair], exceptions: &Exceptions) {
    let versions: HashSet<&str> = pairs
        .iter()
        .flat_map(|pair| [pair.left.as_str(), pair.right.as_str()])
        .collect();
    let rows: HashSet<(&str, &str)> = pairs
        .iter()
        .map(|pair| (pair.left.as_str(), pair.right.as_str()))
        .collect();
    for version in exceptions.rejected.keys() {
        if !versions.contains(version.as_str()) {
            tally.fail_file(format!("listed version `{version}` is in no row"));
        }
    }
    for (left, right) in exceptions.reordered.keys() {
        if !rows.contains(&(left.as_str(), right.as_str())) {
            tally.fail_file(format!("listed pair `{left}`, `{right}` is in no row"));
        }
    }
}

/// Checks that the listed versions of a pair are rejected and the others parse.
fn check_rejected_pair<V>(
    tally: &mut Tally,
    pair: &Pair,
    listed: [Option<&&'static str>; 2],
    parse: impl Fn(&str) -> Result<V, VersionError>,
) {
    let mut as_documented = true;
    for (version, reason) in [&pair.left, &pair.right].into_iter().zip(listed) {
        let message = match (parse(version), reason) {
            (Err(VersionError::Invalid { .. }), Some(_)) | (Ok(_), None) => continue,
            (Ok(_), Some(reason)) => {
                format!("`{version}` parsed, but should be rejected: {reason}")
            }
            (Err(error), _) => error.to_string(),
        };
        tally.fail(pair.line, message);
        as_documented = false;
    }
    if as_documented {
        tally.documented += 1;
    }
}

/// Checks every pair of `file` with `scheme`.
fn check_file(file: &'static str, scheme: Scheme, exceptions: &Exceptions) {
    let Some(pairs) = read_pairs(file) else {
        return;
    };
    let mut tally = Tally::new(file);
    check_pairs(
        &mut tally,
        &pairs,
        exceptions,
        |version| scheme.parse(version),
        |a: &Version, b| a.compare(b).expect("versions share a scheme"),
    );
    tally.finish();
}
