//! airlock carries notation-signed container images across an air gap and proves, on the far side
//! and from local files alone, that nothing changed.
//!
//! The library is the whole tool; `src/main.rs` only parses arguments and maps the outcome to an exit
//! status. See `ARCHITECTURE.md` for the module map and the invariants.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod archive;
pub mod cli;
pub mod digest;
pub mod export;
pub mod finding;
#[doc(hidden)]
pub mod fixture;
#[cfg(feature = "pull")]
pub mod import;
pub mod layout;
pub mod notary;
#[cfg(feature = "pull")]
pub mod registry;
pub mod sign;
pub mod trust_artifact;
pub mod verify;
