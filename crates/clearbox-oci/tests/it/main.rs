//! Integration tests of image reading: transports, layering, digests, hostile layers and
//! registries.

mod hostile;
mod inputs;
mod layering;
mod registry;
mod support;
mod transports;
