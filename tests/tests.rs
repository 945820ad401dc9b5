//! One integration-test binary (one link): the modules below drive the real `airlock` binary, and
//! the registry ones its client library too.

// Cargo.toml's clippy lints are for the shipped code; tests unwrap, index, panic and use `as`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

#[path = "../src/testkit/mod.rs"]
mod testkit;
// The PKI kit under its old name: the modules say `crate::pki::...` / `super::pki::...`.
use testkit::pki;

mod common;

mod bundle_file;
mod cli;
mod corpus;
mod crl_capture;
mod crl_export;
mod differential;
mod export;
mod export_jobs;
mod golden;
mod hostile_tar;
mod identity;
mod import;
mod interop;
mod inventory;
mod local_sources;
mod man;
mod oracle;
mod outputs;
mod parts;
mod receipt;
mod referrers;
mod registry;
mod registry_hostile;
mod registry_util;
mod sign;
mod tamper;
mod timestamp;
mod trust_attack;
