//! Integration tests of image reading: transports, layering, digests, hostile layers and
//! registries.

mod hostile;
mod layering;
mod registry;
mod support;
mod transports;
