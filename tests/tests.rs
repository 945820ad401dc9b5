//! One integration-test binary (one link): the modules below drive the real `airlock` binary, and
//! the registry ones its client library too.

mod common;

mod cli;
mod corpus;
mod crl_capture;
mod crl_export;
mod export;
mod hostile_tar;
mod import;
mod interop;
mod local_sources;
mod man;
mod oracle;
mod outputs;
mod pki;
mod registry;
mod registry_hostile;
mod registry_util;
mod sign;
mod tamper;
mod timestamp;
mod trust_attack;
