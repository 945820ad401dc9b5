//! The test kit: one set of helpers for the library's unit tests and the integration tests.
//!
//! It is compiled twice and never shipped: as `crate::testkit` under `#[cfg(test)]` in the library
//! (`src/lib.rs`) and as `crate::testkit` of the integration binary, which includes this file with
//! `#[path = "../src/testkit/mod.rs"]` (`tests/tests.rs`). So it names no `crate::` module of
//! airlock and uses only crates both sides have (rcgen and time are dev-dependencies: the library
//! proper never links them). Test-only code: panics on unexpected setup failures are intended.
#![allow(dead_code, missing_docs)]

pub mod b64;
pub mod corpus;
pub mod crl;
pub mod pki;
pub mod x509;
