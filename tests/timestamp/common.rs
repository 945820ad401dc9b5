//! Test helpers: corpus location, certificate loading, and just enough JWS/COSE parsing to
//! pull the timestamp token and the signature bytes out of an envelope.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Corpus root (the test kit's one lookup).
pub fn corpus_root() -> PathBuf {
    crate::testkit::corpus::corpus_dir()
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every certificate in a PEM or DER file.
pub fn load_certs(path: &Path) -> Vec<Vec<u8>> {
    let bytes = read(path);
    if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
            .map(|c| c.expect("PEM certificate").to_vec())
            .collect();
        assert!(!certs.is_empty(), "{}: no PEM certificate", path.display());
        certs
    } else {
        vec![bytes]
    }
}

/// Every certificate of every store under `dir` (`truststore/x509/tsa`).
pub fn load_store_dir(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stores: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    stores.sort();
    for store in stores {
        let mut files: Vec<_> = std::fs::read_dir(&store)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            out.extend(load_certs(&f));
        }
    }
    out
}

/// Base64 decoding, standard or URL-safe alphabet, padding optional (the kit's).
pub use crate::testkit::b64::decode_lenient as b64decode;

/// The signature bytes and the timestamp token (if any) of a notation envelope.
pub struct Envelope {
    pub signature: Vec<u8>,
    pub token: Option<Vec<u8>>,
}

pub const TS_HEADER: &str = "io.cncf.notary.timestampSignature";

pub fn parse_envelope(bytes: &[u8], media_type: &str) -> Envelope {
    match media_type {
        "application/jose+json" => {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            Envelope {
                signature: b64decode(v["signature"].as_str().unwrap()),
                token: v["header"][TS_HEADER].as_str().map(b64decode),
            }
        }
        "application/cose" => parse_cose_sign1(bytes),
        other => panic!("unknown envelope media type {other}"),
    }
}

// --- Minimal CBOR, enough for COSE_Sign1 -----------------------------------------------------

#[derive(Debug, Clone)]
enum Cbor {
    Uint(u64),
    Nint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Tag(u64, Box<Cbor>),
    Simple(u64),
}

struct CborReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl CborReader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data[self.pos];
        self.pos += 1;
        b
    }

    fn arg(&mut self, info: u8) -> u64 {
        match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()),
            25 => (0..2).fold(0, |a, _| (a << 8) | u64::from(self.byte())),
            26 => (0..4).fold(0, |a, _| (a << 8) | u64::from(self.byte())),
            27 => (0..8).fold(0, |a, _| (a << 8) | u64::from(self.byte())),
            _ => panic!("indefinite lengths are not used by COSE_Sign1 here"),
        }
    }

    fn item(&mut self) -> Cbor {
        let ib = self.byte();
        let (major, info) = (ib >> 5, ib & 0x1f);
        let n = self.arg(info);
        match major {
            0 => Cbor::Uint(n),
            1 => Cbor::Nint(n),
            2 | 3 => {
                let bytes = self.data[self.pos..self.pos + n as usize].to_vec();
                self.pos += n as usize;
                if major == 2 {
                    Cbor::Bytes(bytes)
                } else {
                    Cbor::Text(String::from_utf8(bytes).unwrap())
                }
            }
            4 => Cbor::Array((0..n).map(|_| self.item()).collect()),
            5 => Cbor::Map((0..n).map(|_| (self.item(), self.item())).collect()),
            6 => Cbor::Tag(n, Box::new(self.item())),
            _ => Cbor::Simple(n),
        }
    }
}

fn parse_cose_sign1(bytes: &[u8]) -> Envelope {
    let mut r = CborReader {
        data: bytes,
        pos: 0,
    };
    let mut item = r.item();
    assert_eq!(r.pos, bytes.len(), "trailing bytes after COSE_Sign1");
    if let Cbor::Tag(18, inner) = item {
        item = *inner;
    }
    let Cbor::Array(parts) = item else {
        panic!("COSE_Sign1 is not an array")
    };
    assert_eq!(parts.len(), 4);
    let Cbor::Map(unprotected) = &parts[1] else {
        panic!("unprotected header is not a map")
    };
    let token = unprotected.iter().find_map(|(k, v)| match (k, v) {
        (Cbor::Text(k), Cbor::Bytes(v)) if k == TS_HEADER => Some(v.clone()),
        _ => None,
    });
    let Cbor::Bytes(signature) = &parts[3] else {
        panic!("signature is not a bstr")
    };
    Envelope {
        signature: signature.clone(),
        token,
    }
}

/// Parses `"2024-06-18 07:20:31+00:00"` (case.json x5c facts) to Unix seconds.
pub fn parse_fact_time(s: &str) -> i64 {
    let s = s.trim_end_matches("+00:00");
    let (date, time) = s.split_once(' ').unwrap();
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let t: Vec<i64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let (y, m, day) = (d[0], d[1], d[2]);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]
}
