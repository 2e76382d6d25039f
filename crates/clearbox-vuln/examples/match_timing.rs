//! Times matching one SBOM against an advisory database, after the database is open and the
//! SBOM is read, so the number is the matcher's alone. Used by `bench/scan.sh`.
//!
//! Usage: `match_timing DB SBOM [RUNS]`; prints `packages findings median_ms min_ms cpu_ms`,
//! where `cpu_ms` is the median CPU time of the matching thread. On a shared machine the wall
//! time includes the time other processes held the CPU; the thread's CPU time does not.

#![allow(clippy::print_stdout, reason = "the example prints its measurement")]

use std::time::Instant;

use clearbox_vuln::{Database, match_catalog_with_notes};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(sbom)) = (args.next(), args.next()) else {
        return Err("usage: match_timing DB SBOM [RUNS]".into());
    };
    let runs: usize = args.next().map_or(Ok(5), |r| r.parse())?;

    // Open and read outside the timed part.
    let db = Database::open(db.as_ref())?;
    let (_, catalog) = clearbox_sbom::read_sbom(&std::fs::read(&sbom)?)?;

    // Match `runs` times; the first run also warms SQLite's page cache.
    let mut times = Vec::with_capacity(runs);
    let mut cpu_times = Vec::with_capacity(runs);
    let mut findings = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let cpu_start = thread_cpu_ms();
        let outcome = match_catalog_with_notes(&db, &catalog)?;
        cpu_times.push(thread_cpu_ms() - cpu_start);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        findings = outcome.findings.len();
    }
    times.sort_by(f64::total_cmp);
    cpu_times.sort_by(f64::total_cmp);
    println!(
        "{} {findings} {:.1} {:.1} {:.1}",
        catalog.packages.len(),
        times[times.len() / 2],
        times[0],
        cpu_times[cpu_times.len() / 2]
    );
    Ok(())
}

/// Returns the CPU time the calling thread has used, in milliseconds: the first field of
/// `/proc/thread-self/schedstat`, in nanoseconds.
fn thread_cpu_ms() -> f64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat is readable on Linux");
    let nanoseconds: u64 = text
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .expect("schedstat starts with the CPU time in nanoseconds");
    #[expect(
        clippy::cast_precision_loss,
        reason = "a thread's CPU time in nanoseconds stays far below 2^52"
    )]
    let milliseconds = nanoseconds as f64 / 1_000_000.0;
    milliseconds
}
