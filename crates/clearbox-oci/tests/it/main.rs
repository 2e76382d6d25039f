//! Integration tests of image reading: transports, layering, digests and hostile layers.

mod hostile;
mod layering;
mod support;
mod transports;
