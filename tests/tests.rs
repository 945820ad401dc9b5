//! One integration-test binary (one link): every module below drives the real `airlock` binary.

mod common;

mod cli;
mod corpus;
mod hostile_tar;
mod interop;
mod man;
mod pki;
mod sign;
mod tamper;
mod timestamp;
