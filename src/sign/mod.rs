//! `airlock sign`: signs an image of an OCI image layout directory and stores the signature as
//! `notation sign --oci-layout` does (SPEC-NOTES §1.1 image-spec 1.1 form, §1.4).
//!
//! [`sign`] = [`resolve`] the reference to the target's descriptor (checking the target's bytes),
//! build the payload and the envelope ([`crate::notary::sign`]), **verify the envelope with the
//! verifier's code** and stop before writing anything if it does not pass, then [`attach`] it:
//!
//! 1. the envelope, the empty config `{}` and the signature manifest (`artifactType`
//!    `application/vnd.cncf.notary.signature`, one layer, `subject`, the thumbprint and creation
//!    annotations) are written as blobs;
//! 2. the referrers tag index `sha256-<hex>` is created, or merged keeping its existing entries;
//! 3. `index.json` (written last) lists the signature manifest untagged and the referrers index
//!    under its tag; a superseded referrers index nothing references any more is then removed.
//!
//! Every file goes through a temporary name renamed into place ([`crate::layout::write_atomic`]),
//! so an interrupted run leaves at most unreferenced blobs. Two `airlock sign` runs on the same
//! layout at the same time may lose one `index.json` update (notation has the same limit); run them
//! one after the other.
//!
//! Nothing here reads the clock: the signing time is part of [`Request`].

mod layout;

use std::path::{Path, PathBuf};

pub use layout::{
    attach, resolve, signature_manifest, Attached, Signature, SignatureManifest, Target, EMPTY_JSON,
};

use crate::notary::crypto::{SignatureAlgorithm, SigningKey};
use crate::notary::envelope::EnvelopeFormat;
use crate::notary::sign::{self as notary_sign, SignError, SignRequest};

/// Errors of `airlock sign`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the layout cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The directory is not an OCI image layout (no `oci-layout` 1.0.0 or no `index.json`).
    #[error("{path} is not an OCI image layout: {reason}")]
    NotALayout {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `index.json` or a referrers index cannot be used.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No image of the layout has this tag or digest.
    #[error("no image named {0:?} in the layout")]
    NotFound(String),
    /// The tag names several images.
    #[error("{reference:?} names more than one image: {digests}")]
    Ambiguous {
        /// The reference.
        reference: String,
        /// The digests it names.
        digests: String,
    },
    /// No reference was given and the layout does not hold exactly one image.
    #[error("the layout holds {0} images; name one as LAYOUT:TAG or LAYOUT@DIGEST")]
    NoDefault(usize),
    /// The target's bytes do not match its descriptor, or it is not a manifest or index.
    #[error("cannot sign {digest}: {reason}")]
    Target {
        /// The target digest.
        digest: String,
        /// Why.
        reason: String,
    },
    /// Key, chain, envelope or the fail-closed check.
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl Error {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::NotALayout { .. } => "not_a_layout",
            Self::Malformed { .. } => "layout_malformed",
            Self::NotFound(_) => "image_not_found",
            Self::Ambiguous { .. } => "reference_ambiguous",
            Self::NoDefault(_) => "reference_required",
            Self::Target { .. } => "target_invalid",
            Self::Sign(e) => e.code(),
        }
    }
}

/// Splits `LAYOUT_DIR[:TAG|@DIGEST]`: the whole argument when it is a directory; else at the last
/// `@` (digest); else at the first `:` whose left part is a directory (so directory names may hold
/// `:` and tags may be full references such as `registry.example/app:1.0`). Anything else is
/// returned whole, and fails later as "not an OCI image layout".
pub fn split_reference(arg: &str) -> (PathBuf, Option<String>) {
    if Path::new(arg).is_dir() {
        return (PathBuf::from(arg), None);
    }
    if let Some((dir, digest)) = arg.rsplit_once('@') {
        return (PathBuf::from(dir), Some(digest.to_owned()));
    }
    for (i, _) in arg.match_indices(':') {
        let (dir, rest) = arg.split_at(i);
        if Path::new(dir).is_dir() {
            return (
                PathBuf::from(dir),
                Some(rest.trim_start_matches(':').to_owned()),
            );
        }
    }
    (PathBuf::from(arg), None)
}

/// What to sign, with what, and when.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// A tag (`org.opencontainers.image.ref.name`, full or its tag part) or a digest; `None`: the
    /// layout's only image.
    pub reference: Option<&'a str>,
    /// The private key of the leaf certificate.
    pub key: &'a SigningKey,
    /// The certificate chain, DER, leaf first, ending with the root.
    pub chain: &'a [Vec<u8>],
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// Signing time, Unix seconds (the caller reads the clock).
    pub signing_time: i64,
    /// Expiry, Unix seconds.
    pub expiry: Option<i64>,
    /// User metadata, placed in the signed payload's annotations.
    pub user_metadata: &'a [(String, String)],
    /// `io.cncf.notary.signingAgent`.
    pub signing_agent: &'a str,
}

/// The outcome of [`sign`].
#[derive(Debug, Clone)]
pub struct Signed {
    /// What was signed.
    pub target: Target,
    /// The envelope algorithm.
    pub algorithm: SignatureAlgorithm,
    /// What was written.
    pub attached: Attached,
}

/// Signs the image `req.reference` of the layout at `root` and stores the signature, or writes
/// nothing and fails.
pub fn sign(root: &Path, req: &Request<'_>) -> Result<Signed, Error> {
    let target = resolve(root, req.reference)?;
    let payload = notary_sign::payload(&target.descriptor, req.user_metadata)?;
    let envelope = notary_sign::sign_envelope(&SignRequest {
        format: req.format,
        payload: &payload,
        chain: req.chain,
        key: req.key,
        signing_time: req.signing_time,
        expiry: req.expiry,
        signing_agent: req.signing_agent,
    })?;
    notary_sign::check_envelope(
        req.format,
        &envelope,
        &target.descriptor,
        req.signing_time,
        req.expiry,
        req.user_metadata,
    )?;
    let attached = attach(
        root,
        &target.descriptor,
        &Signature {
            envelope: &envelope,
            format: req.format,
            chain: req.chain,
            signing_time: req.signing_time,
        },
    )?;
    Ok(Signed {
        target,
        algorithm: req.key.algorithm(),
        attached,
    })
}

/// A key, its chain and an envelope format: what signs a verification receipt or a trust artifact.
pub struct Signer {
    /// The leaf certificate's private key.
    pub key: SigningKey,
    /// DER certificates, leaf first, root last.
    pub chain: Vec<Vec<u8>>,
    /// JWS or COSE.
    pub format: EnvelopeFormat,
}

/// Signs `target` (a manifest's descriptor) as [`sign`] signs an image, without user metadata or
/// expiry: the envelope, checked with the verifier's code (fail closed), and the signature
/// manifest whose `subject` is `target`. Writes nothing: the caller stores both.
pub fn sign_descriptor(
    target: &notary_sign::TargetDescriptor,
    signer: &Signer,
    signing_time: i64,
) -> Result<(Vec<u8>, SignatureManifest), Error> {
    let payload = notary_sign::payload(target, &[])?;
    let envelope = notary_sign::sign_envelope(&SignRequest {
        format: signer.format,
        payload: &payload,
        chain: &signer.chain,
        key: &signer.key,
        signing_time,
        expiry: None,
        signing_agent: concat!("airlock/", env!("CARGO_PKG_VERSION")),
    })?;
    notary_sign::check_envelope(signer.format, &envelope, target, signing_time, None, &[])?;
    let manifest = signature_manifest(
        target,
        &Signature {
            envelope: &envelope,
            format: signer.format,
            chain: &signer.chain,
            signing_time,
        },
    )?;
    Ok((envelope, manifest))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn references_split_at_digest_or_at_the_first_colon_after_a_directory() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("lay:out");
        std::fs::create_dir(&dir).unwrap();
        let d = dir.display().to_string();
        assert_eq!(split_reference(&d), (dir.clone(), None));
        assert_eq!(
            split_reference(&format!("{d}:1.0")),
            (dir.clone(), Some("1.0".into()))
        );
        assert_eq!(
            split_reference(&format!("{d}:registry.example/app:1.0")),
            (dir.clone(), Some("registry.example/app:1.0".into()))
        );
        assert_eq!(
            split_reference(&format!("{d}@sha256:abc")),
            (dir.clone(), Some("sha256:abc".into()))
        );
        let missing = t.path().join("missing").display().to_string();
        assert_eq!(
            split_reference(&format!("{missing}:v1")),
            (PathBuf::from(format!("{missing}:v1")), None)
        );
    }

    #[test]
    fn a_directory_that_is_not_a_layout_is_refused() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(resolve(t.path(), None).unwrap_err().code(), "not_a_layout");
        std::fs::write(
            t.path().join("oci-layout"),
            br#"{"imageLayoutVersion":"2.0.0"}"#,
        )
        .unwrap();
        assert!(resolve(t.path(), None)
            .unwrap_err()
            .to_string()
            .contains("version"));
    }

    #[test]
    fn a_target_whose_bytes_changed_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let top = crate::fixture::generate(
            t.path(),
            &crate::fixture::Spec {
                layer_size: 64,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(resolve(t.path(), None).unwrap().descriptor.digest, top);
        let path = t.path().join(crate::layout::blob_path(&top));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.push(b' ');
        std::fs::write(&path, bytes).unwrap();
        let err = resolve(t.path(), None).unwrap_err();
        assert_eq!(err.code(), "target_invalid", "{err}");
    }
}
