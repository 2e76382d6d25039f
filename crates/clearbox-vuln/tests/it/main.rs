//! Integration tests of the advisory database, the matcher and the reports, on the real OSV
//! records of the shared corpus (`$CLEARBOX_CORPUS`). Tests that need the corpus or the
//! validator venv print a notice and pass when it is missing, except with `CI=true`.

#![allow(
    clippy::print_stdout,
    reason = "tests print the matched advisory sets and import counts"
)]

mod debian;
mod ecosystems;
mod example;
mod import;
mod malformed;
mod merge;
mod reports;
mod severity;
mod support;
mod zip_import;
