//! The test kit's CRL builder ([`crate::testkit::crl`]), and [`Build`]: a minted CRL parsed with
//! this module's own reader.

pub use crate::testkit::crl::*;

use crate::notary::revocation::Crl;

/// Mints and parses a CRL.
pub trait Build {
    /// The CRL, parsed by [`Crl::from_der`].
    fn build(self) -> Crl;
}

impl Build for CrlSpec {
    fn build(self) -> Crl {
        Crl::from_der(&self.der()).unwrap()
    }
}
