//! Integration tests of the advisory database, the matcher and the reports, on the real OSV
//! records of the shared corpus (`$CLEARBOX_CORPUS`). Tests that need the corpus or the
//! validator venv print a notice and pass when it is missing, except with `CI=true`.

#![allow(
    clippy::print_stdout,
    reason = "tests print the matched advisory sets and import counts"
)]

mod csaf;
mod debian;
mod distros;
mod ecosystems;
mod example;
mod import;
mod languages;
mod malformed;
mod merge;
mod migrate;
mod reports;
mod secdb;
mod severity;
mod support;
mod vex;
mod zip_import;
