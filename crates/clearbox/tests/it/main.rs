//! The `clearbox` binary run as a user runs it: on the example AI image, on the shared corpus,
//! and on hostile input, checking exit codes and output values with the real validators.

mod audit;
mod build;
mod bundle;
mod check;
mod cli;
mod evidence;
mod hostile;
mod keyless;
mod manifests;
mod messages;
mod model;
mod policy;
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
mod webhook;
mod webhook_server;
mod webhook_signed_objects;
