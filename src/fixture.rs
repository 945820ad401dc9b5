//! Deterministic sample layouts, for the README's first command, the tests and the benchmarks.
//!
//! Manifests are built with `oci-spec`'s typed builders (the same types export will use for the
//! trust artifact); layer content is an incompressible pseudo-random stream from a fixed seed, so
//! the same parameters always give the same bytes.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use oci_spec::image::{
    Arch, ConfigBuilder, DescriptorBuilder, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifestBuilder, MediaType, Os, PlatformBuilder, RootFsBuilder,
};

use crate::digest::Digest;
use crate::layout::LayoutWriter;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The image reference recorded in `index.json`.
    pub reference: String,
    /// Platforms (`os/arch`), each an image manifest of the top-level index.
    pub platforms: Vec<String>,
    /// Layers per platform.
    pub layers: usize,
    /// Bytes per layer.
    pub layer_size: u64,
    /// Seed of the content stream.
    pub seed: u64,
    /// Also write an SBOM-like referrer artifact attached to the index.
    pub referrer: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            reference: "registry.example/airlock/sample:1.0".into(),
            platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
            layers: 2,
            layer_size: 256 << 10,
            seed: 1,
            referrer: true,
        }
    }
}

/// An incompressible, reproducible byte stream (splitmix64).
pub struct Noise {
    state: u64,
    left: u64,
    buf: [u8; 8],
    pos: usize,
}

impl Noise {
    /// `len` bytes from `seed`.
    pub fn new(seed: u64, len: u64) -> Self {
        Noise {
            state: seed,
            left: len,
            buf: [0; 8],
            pos: 8,
        }
    }

    fn next_word(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Read for Noise {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.left.min(u64::try_from(out.len()).unwrap_or(u64::MAX)))
            .unwrap_or(out.len());
        let mut i = 0;
        while i < n {
            if self.pos == 8 {
                if n - i >= 8 {
                    let w = self.next_word().to_le_bytes();
                    if let Some(dst) = out.get_mut(i..i + 8) {
                        dst.copy_from_slice(&w);
                    }
                    i += 8;
                    continue;
                }
                self.buf = self.next_word().to_le_bytes();
                self.pos = 0;
            }
            if let (Some(o), Some(b)) = (out.get_mut(i), self.buf.get(self.pos)) {
                *o = *b;
            }
            self.pos += 1;
            i += 1;
        }
        self.left -= u64::try_from(n).unwrap_or(u64::MAX);
        Ok(n)
    }
}

/// Serialises with keys in sorted order (oci-spec keeps annotations in a `HashMap`, whose order
/// varies from run to run).
fn canonical<T: serde::Serialize>(v: &T) -> io::Result<Vec<u8>> {
    let value = serde_json::to_value(v).map_err(io::Error::other)?;
    serde_json::to_vec(&value).map_err(io::Error::other)
}

fn spec_err(e: oci_spec::OciSpecError) -> io::Error {
    io::Error::other(e.to_string())
}

fn oci_digest(d: &Digest) -> io::Result<oci_spec::image::Digest> {
    oci_spec::image::Digest::from_str(&d.to_string()).map_err(spec_err)
}

fn descriptor(mt: MediaType, d: &Digest, size: u64) -> io::Result<oci_spec::image::Descriptor> {
    DescriptorBuilder::default()
        .media_type(mt)
        .digest(oci_digest(d)?)
        .size(size)
        .build()
        .map_err(spec_err)
}

/// Writes a layout at `dir` and returns the digest of the top-level index.
pub fn generate(dir: &Path, spec: &Spec) -> io::Result<Digest> {
    let w = LayoutWriter::create(dir)?;
    let mut manifests = Vec::new();
    let mut stream = spec.seed;
    for p in &spec.platforms {
        let (os, arch) = p.split_once('/').unwrap_or((p.as_str(), "amd64"));
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for _ in 0..spec.layers {
            stream = stream.wrapping_add(1);
            let (d, n) = w.put_reader(Noise::new(stream, spec.layer_size))?;
            diff_ids.push(d.to_string());
            layers.push(descriptor(MediaType::ImageLayer, &d, n)?);
        }
        let config = ImageConfigurationBuilder::default()
            .architecture(Arch::from(arch))
            .os(Os::from(os))
            .config(
                ConfigBuilder::default()
                    .cmd(vec!["/bin/sh".to_string()])
                    .build()
                    .map_err(spec_err)?,
            )
            .rootfs(
                RootFsBuilder::default()
                    .typ("layers")
                    .diff_ids(diff_ids)
                    .build()
                    .map_err(spec_err)?,
            )
            .build()
            .map_err(spec_err)?;
        let config_bytes = canonical(&config)?;
        let config_d = w.put_bytes(&config_bytes)?;
        let manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(descriptor(
                MediaType::ImageConfig,
                &config_d,
                u64::try_from(config_bytes.len()).unwrap_or(u64::MAX),
            )?)
            .layers(layers)
            .build()
            .map_err(spec_err)?;
        let mbytes = canonical(&manifest)?;
        let md = w.put_bytes(&mbytes)?;
        let mut desc = descriptor(
            MediaType::ImageManifest,
            &md,
            u64::try_from(mbytes.len()).unwrap_or(u64::MAX),
        )?;
        desc.set_platform(Some(
            PlatformBuilder::default()
                .os(Os::from(os))
                .architecture(Arch::from(arch))
                .build()
                .map_err(spec_err)?,
        ));
        manifests.push(desc);
    }
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(spec_err)?;
    let ibytes = canonical(&index)?;
    let id = w.put_bytes(&ibytes)?;
    let mut top = descriptor(
        MediaType::ImageIndex,
        &id,
        u64::try_from(ibytes.len()).unwrap_or(u64::MAX),
    )?;
    top.set_annotations(Some(HashMap::from([
        (
            "org.opencontainers.image.ref.name".to_string(),
            spec.reference.clone(),
        ),
        (
            "io.containerd.image.name".to_string(),
            spec.reference.clone(),
        ),
    ])));
    let mut entries = vec![top.clone()];
    if spec.referrer {
        let sbom = br#"{"spdxVersion":"SPDX-2.3","name":"airlock sample","packages":[]}"#;
        let sd = w.put_bytes(sbom)?;
        let empty = b"{}";
        let ed = w.put_bytes(empty)?;
        let m = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .artifact_type(MediaType::Other("application/spdx+json".into()))
            .config(descriptor(MediaType::EmptyJSON, &ed, 2)?)
            .layers(vec![descriptor(
                MediaType::Other("application/spdx+json".into()),
                &sd,
                u64::try_from(sbom.len()).unwrap_or(u64::MAX),
            )?])
            .subject(descriptor(
                MediaType::ImageIndex,
                &id,
                u64::try_from(ibytes.len()).unwrap_or(u64::MAX),
            )?)
            .build()
            .map_err(spec_err)?;
        let rbytes = canonical(&m)?;
        let rd = w.put_bytes(&rbytes)?;
        let mut rdesc = descriptor(
            MediaType::ImageManifest,
            &rd,
            u64::try_from(rbytes.len()).unwrap_or(u64::MAX),
        )?;
        rdesc.set_artifact_type(Some(MediaType::Other("application/spdx+json".into())));
        entries.push(rdesc);
    }
    let layout_index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(entries)
        .build()
        .map_err(spec_err)?;
    w.finish(&canonical(&layout_index)?)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_reproducible_and_chunking_independent() {
        let mut a = Vec::new();
        Noise::new(7, 1000).read_to_end(&mut a).unwrap();
        let mut b = Vec::new();
        let mut n = Noise::new(7, 1000);
        let mut small = [0u8; 3];
        loop {
            let k = n.read(&mut small).unwrap();
            if k == 0 {
                break;
            }
            b.extend_from_slice(&small[..k]);
        }
        assert_eq!(a.len(), 1000);
        assert_eq!(a, b);
    }
}
