//! airlock carries notation-signed container images across an air gap and proves, on the far side
//! and from local files alone, that nothing changed.
//!
//! The library is the whole tool; `src/main.rs` only parses arguments and maps the outcome to an exit
//! status. See `ARCHITECTURE.md` for the module map and the invariants.

// The lints are Cargo.toml's `[lints]` table; tests may unwrap, index, panic and convert with `as`.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

pub mod archive;
pub mod cli;
pub mod digest;
pub mod export;
pub mod finding;
#[doc(hidden)]
pub mod fixture;
pub mod fsutil;
pub mod gojson;
#[cfg(feature = "pull")]
pub mod import;
pub mod inventory;
pub mod layout;
pub mod notary;
pub mod receipt;
#[cfg(feature = "pull")]
pub mod registry;
pub mod sign;
pub mod trust_artifact;
pub mod verify;

#[cfg(test)]
pub(crate) mod testkit;
