//! The `clearbox` command: argument parsing, logging, and exit codes. Each command lives in
//! its own module under `commands/`.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod output;
mod progress;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clearbox_catalog::escape_unprintable;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};

/// What a successful command concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything passed.
    Success,
    /// A policy, vulnerability or integrity gate failed.
    GateFailed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    output::set_quiet(cli.quiet);
    commands::audit::set_store_argument(cli.audit_store.as_deref());
    let result = commands::audit::record(&cli, run(&cli));
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::GateFailed) => ExitCode::from(1),
        Err(error) => {
            report_error(&error);
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Audit(command) => commands::audit::run(command, cli.audit_store.as_deref()),
        Command::Rescan(args) => commands::rescan::run(args),
        Command::Evidence(args) => commands::evidence::run(args, cli.quiet),
        Command::Sbom(args) => commands::sbom::run(args, cli.quiet),
        Command::Scan(args) => commands::scan::run(args, cli.quiet),
        Command::Db(command) => commands::db::run(command),
        Command::Version(command) => commands::version::run(command),
        Command::Trust(command) => commands::trust::run(command),
        Command::Key(command) => commands::key::run(command),
        Command::Sign(args) => commands::sign::sign(args),
        Command::Verify(args) => commands::sign::verify(args),
        Command::Attest(args) => commands::sign::attest(args),
        Command::VerifyAttestation(args) => commands::sign::verify_attestation(args),
        Command::Provenance(args) => commands::provenance::run(args),
        Command::Build(args) => commands::build::run(args, cli.quiet),
        Command::Rebuild(args) => commands::build::rebuild(args),
        Command::Attach(command) => commands::attach::attach(command),
        Command::Download(command) => commands::attach::download(command),
        Command::Check(command) => commands::check::run(command, cli.quiet),
        Command::Policy(command) => commands::policy::run(command),
        Command::Webhook(command) => commands::webhook::run(command, cli.audit_store.as_deref()),
        Command::Report(args) => commands::report::run(args, cli.quiet),
        Command::Annotate(args) => commands::annotate::run(args),
        Command::ModelAttest(args) => commands::model_attest::run(args, cli.quiet),
        Command::SignManifest(args) => commands::manifest_sign::sign(args),
        Command::VerifyManifest(args) => commands::manifest_sign::verify(args),
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::LogWriter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Prints `error: …` with every cause on its own line, and a hint when one applies.
pub(crate) fn report_error(error: &anyhow::Error) {
    // Messages quote image references, file names from layers and claims from signatures;
    // escaping keeps each cause on one line.
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}", escape_unprintable(&error.to_string()));
    for cause in error.chain().skip(1) {
        let _ = writeln!(
            err,
            "  caused by: {}",
            escape_unprintable(&cause.to_string())
        );
    }
    if let Some(hint) = commands::hint_for(error) {
        let _ = writeln!(err, "\nhint: {hint}");
    }
}
