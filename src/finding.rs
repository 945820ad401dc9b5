//! Findings: every verification failure and warning is data with a stable reason code.

use std::fmt;

use serde::Serialize;

/// A stable, `snake_case` reason code. Codes are part of the report format: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// `oci-layout` is absent.
    OciLayoutMissing,
    /// `oci-layout` is not the JSON object the image-spec defines.
    OciLayoutMalformed,
    /// `imageLayoutVersion` is not `1.0.0`.
    OciLayoutVersion,
    /// `index.json` is absent.
    IndexMissing,
    /// `index.json` is not a well-formed image index.
    IndexMalformed,
    /// A descriptor names a blob the bundle does not hold.
    BlobMissing,
    /// A blob's content does not hash to its digest.
    DigestMismatch,
    /// A blob's length differs from its descriptor's `size`.
    SizeMismatch,
    /// A digest string breaks the grammar (uppercase hex, wrong length, bad characters).
    DigestInvalid,
    /// A digest uses an algorithm other than sha256 or sha512.
    DigestAlgorithmUnsupported,
    /// A manifest or index declares a `mediaType` different from its descriptor's.
    MediaTypeMismatch,
    /// An index's platform label for a manifest disagrees with that manifest's image config.
    PlatformMismatch,
    /// A manifest or index is larger than the 4 MiB limit.
    ManifestTooLarge,
    /// A JSON blob (manifest, index, config, envelope) does not parse.
    MalformedJson,
    /// A manifest or index parses as JSON but breaks the image-spec structure.
    MalformedManifest,
    /// Indexes are nested deeper than the limit.
    NestingTooDeep,
    /// An image named on the command line is not in the bundle.
    ImageNotFound,
    /// A tar entry or file path is absolute or climbs with `..`.
    UnsafePath,
    /// A symbolic or hard link (in a tarball or a layout directory).
    LinkEntry,
    /// A device, FIFO or other special file.
    SpecialFile,
    /// The same name appears twice in a tarball.
    DuplicateEntry,
    /// A tar entry outside `oci-layout`, `index.json` and `blobs/<alg>/<hex>`.
    UnexpectedEntry,
    /// The archive stream is truncated, corrupt or fails to decompress.
    ArchiveCorrupt,
    /// A resource limit was exceeded (entry count, header size, retained JSON).
    LimitExceeded,
    /// Warning: a blob nothing references.
    UnreferencedBlob,
    /// Warning: a file under `blobs/` whose name is not a digest.
    UnexpectedFile,
    /// Warning: a non-distributable (foreign) layer that the bundle does not carry.
    ForeignBlobAbsent,
    /// A blob `airlock export --since` left out because the far side's inventory listed it
    /// (a warning: `verify --base` or the target registry supplies it).
    BlobExternal,
    /// `import` of a differential bundle: the target registry lacks a blob that was left out.
    BlobExternalAbsent,
    /// Warning: a platform manifest `airlock export --platform` left out on purpose.
    ExcludedByExport,
    /// No trust artifact of the bundle has the digest given with `--pin`.
    PinMismatch,
    /// A `--pin` is the fingerprint of a certificate, not a trust artifact digest (a usage error:
    /// a root belongs in a local trust store).
    PinIsCertificate,
    /// In pinned mode, an image whose name and digest are not a source of the export record.
    NotInExportRecord,
    /// In pinned mode, an image the export record lists is not in the bundle.
    ExportedImageMissing,
    /// The bundle carries no trust artifact, but `--pin` or `--trust-bundled` asked for one.
    TrustArtifactMissing,
    /// The bundle's trust artifact cannot be read.
    TrustArtifactInvalid,
    /// A signature envelope is malformed, its signature does not verify, or its certificate chain
    /// breaks the Notary certificate rules.
    SignatureIntegrity,
    /// The signed payload's `targetArtifact` is not the manifest it is attached to.
    PayloadMismatch,
    /// The signature demands a verification plugin (none run offline).
    PluginRequired,
    /// A trust store the policy names does not exist.
    TruststoreMissing,
    /// A trust store the policy names cannot be used (bad file, leaf certificate, non-root TSA).
    TruststoreInvalid,
    /// No certificate of the signing chain is in the trust store.
    UntrustedSigner,
    /// The signer is not one of the policy's trusted identities.
    TrustedIdentity,
    /// The signature's `io.cncf.notary.expiry` has passed.
    SignatureExpired,
    /// Certificate validity at the trusted time, or the RFC 3161 timestamp, failed.
    AuthenticTimestamp,
    /// A certificate of the signing chain is revoked.
    Revoked,
    /// The revocation status of a signing certificate cannot be established offline.
    RevocationUnknown,
    /// Required user metadata is not in the signed payload.
    UserMetadata,
    /// The image has no Notary signature.
    NoSignature,
    /// No trust-policy statement applies to the image's scope.
    NoApplicablePolicy,
    /// The image records no repository and no `--scope` was given.
    ScopeUnknown,
    /// A signature manifest of the image is malformed (not one envelope layer, wrong media type,
    /// over the size limits): notation aborts the verification of its subject.
    SignatureManifestInvalid,
    /// A part its parts manifest lists is not there (or cannot be read).
    PartMissing,
    /// A part's length differs from its manifest's (truncated or extended).
    PartSizeMismatch,
    /// A part's sha256 differs from its manifest's (damaged, swapped, duplicated).
    PartDigestMismatch,
    /// A file named like a part of the set that its manifest does not list.
    PartUnexpected,
}

impl Code {
    /// The code as it appears in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::OciLayoutMissing => "oci_layout_missing",
            Code::OciLayoutMalformed => "oci_layout_malformed",
            Code::OciLayoutVersion => "oci_layout_version",
            Code::IndexMissing => "index_missing",
            Code::IndexMalformed => "index_malformed",
            Code::BlobMissing => "blob_missing",
            Code::DigestMismatch => "digest_mismatch",
            Code::SizeMismatch => "size_mismatch",
            Code::DigestInvalid => "digest_invalid",
            Code::DigestAlgorithmUnsupported => "digest_algorithm_unsupported",
            Code::MediaTypeMismatch => "media_type_mismatch",
            Code::PlatformMismatch => "platform_mismatch",
            Code::ManifestTooLarge => "manifest_too_large",
            Code::MalformedJson => "malformed_json",
            Code::MalformedManifest => "malformed_manifest",
            Code::NestingTooDeep => "nesting_too_deep",
            Code::ImageNotFound => "image_not_found",
            Code::UnsafePath => "unsafe_path",
            Code::LinkEntry => "link_entry",
            Code::SpecialFile => "special_file",
            Code::DuplicateEntry => "duplicate_entry",
            Code::UnexpectedEntry => "unexpected_entry",
            Code::ArchiveCorrupt => "archive_corrupt",
            Code::LimitExceeded => "limit_exceeded",
            Code::UnreferencedBlob => "unreferenced_blob",
            Code::UnexpectedFile => "unexpected_file",
            Code::ForeignBlobAbsent => "foreign_blob_absent",
            Code::BlobExternal => "blob_external",
            Code::BlobExternalAbsent => "blob_external_absent",
            Code::ExcludedByExport => "excluded_by_export",
            Code::PinMismatch => "pin_mismatch",
            Code::PinIsCertificate => "pin_is_certificate",
            Code::NotInExportRecord => "not_in_export_record",
            Code::ExportedImageMissing => "exported_image_missing",
            Code::TrustArtifactMissing => "trust_artifact_missing",
            Code::TrustArtifactInvalid => "trust_artifact_invalid",
            Code::SignatureIntegrity => "signature_integrity",
            Code::PayloadMismatch => "payload_mismatch",
            Code::PluginRequired => "plugin_required",
            Code::TruststoreMissing => "truststore_missing",
            Code::TruststoreInvalid => "truststore_invalid",
            Code::UntrustedSigner => "untrusted_signer",
            Code::TrustedIdentity => "trusted_identity",
            Code::SignatureExpired => "signature_expired",
            Code::AuthenticTimestamp => "authentic_timestamp",
            Code::Revoked => "revoked",
            Code::RevocationUnknown => "revocation_unknown",
            Code::UserMetadata => "user_metadata",
            Code::NoSignature => "no_signature",
            Code::NoApplicablePolicy => "no_applicable_policy",
            Code::ScopeUnknown => "scope_unknown",
            Code::SignatureManifestInvalid => "signature_manifest_invalid",
            Code::PartMissing => "part_missing",
            Code::PartSizeMismatch => "part_size_mismatch",
            Code::PartDigestMismatch => "part_digest_mismatch",
            Code::PartUnexpected => "part_unexpected",
        }
    }
}

impl Code {
    /// Rank of a signature failure: the one that got furthest through the specification's order of
    /// validations explains an image failure best. Codes that are not signature failures rank 0.
    pub fn rank(self) -> u8 {
        match self {
            Code::SignatureIntegrity | Code::PayloadMismatch => 1,
            Code::PluginRequired => 2,
            Code::TruststoreMissing | Code::TruststoreInvalid | Code::UntrustedSigner => 3,
            Code::TrustedIdentity => 4,
            Code::SignatureExpired => 5,
            Code::AuthenticTimestamp => 6,
            Code::Revoked | Code::RevocationUnknown => 7,
            Code::UserMetadata => 8,
            Code::OciLayoutMissing
            | Code::OciLayoutMalformed
            | Code::OciLayoutVersion
            | Code::IndexMissing
            | Code::IndexMalformed
            | Code::BlobMissing
            | Code::DigestMismatch
            | Code::SizeMismatch
            | Code::DigestInvalid
            | Code::DigestAlgorithmUnsupported
            | Code::MediaTypeMismatch
            | Code::PlatformMismatch
            | Code::ManifestTooLarge
            | Code::MalformedJson
            | Code::MalformedManifest
            | Code::NestingTooDeep
            | Code::ImageNotFound
            | Code::UnsafePath
            | Code::LinkEntry
            | Code::SpecialFile
            | Code::DuplicateEntry
            | Code::UnexpectedEntry
            | Code::ArchiveCorrupt
            | Code::LimitExceeded
            | Code::UnreferencedBlob
            | Code::UnexpectedFile
            | Code::ForeignBlobAbsent
            | Code::BlobExternal
            | Code::BlobExternalAbsent
            | Code::ExcludedByExport
            | Code::PinMismatch
            | Code::PinIsCertificate
            | Code::NotInExportRecord
            | Code::ExportedImageMissing
            | Code::TrustArtifactMissing
            | Code::TrustArtifactInvalid
            | Code::NoSignature
            | Code::NoApplicablePolicy
            | Code::ScopeUnknown
            | Code::SignatureManifestInvalid
            | Code::PartMissing
            | Code::PartSizeMismatch
            | Code::PartDigestMismatch
            | Code::PartUnexpected => 0,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure or warning.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Finding {
    /// The reason code.
    pub code: Code,
    /// The digest concerned, when there is one (as written in the bundle, even if malformed).
    pub digest: Option<String>,
    /// The path inside the bundle concerned, when there is one.
    pub path: Option<String>,
    /// A sentence for people.
    pub message: String,
}

impl Finding {
    /// A finding with a message and nothing else.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Finding {
            code,
            digest: None,
            path: None,
            message: message.into(),
        }
    }

    /// Sets the digest.
    pub fn digest(mut self, d: impl ToString) -> Self {
        self.digest = Some(d.to_string());
        self
    }

    /// Sets the path.
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = Some(p.into());
        self
    }
}
