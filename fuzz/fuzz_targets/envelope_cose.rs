//! COSE_Sign1 envelope (`application/cose`): parse, then verify on success.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::envelope("application/cose", data));
