//! RFC 3161 timestamp tokens: the corpus `tst.*` and `ngo-ts.*` tokens, and mutations of them.

mod adversarial;
mod common;
mod corpus;
