//! One integration-test binary (one link): every module below drives the real `airlock` binary.

mod common;

mod cli;
mod corpus;
mod crl_capture;
mod export;
mod hostile_tar;
mod import;
mod interop;
mod man;
mod oracle;
mod pki;
mod registry;
mod registry_hostile;
mod registry_util;
mod sign;
mod tamper;
mod timestamp;
