//! The `clearbox` binary run as a user runs it: on the example AI image, on the shared corpus,
//! and on hostile input, checking exit codes and output values with the real validators.

mod bundle;
mod check;
mod cli;
mod evidence;
mod hostile;
mod messages;
mod model;
mod provenance;
mod registry;
mod report;
mod sbom;
mod scan;
mod scan_inputs;
mod signing;
mod signing_inputs;
mod support;
mod transports;
mod vuln;
