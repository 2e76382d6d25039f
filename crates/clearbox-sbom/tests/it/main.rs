//! Integration tests: encoders checked by the real validators, readers on documents shaped like
//! syft, trivy and cdxgen output, and round trips.

mod cyclonedx;
mod ecosystems;
mod fixtures;
mod read;
mod round_trip;
mod spdx;
mod table;
