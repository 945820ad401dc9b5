//! Part sizes as people write them: `K/M/G/T` (powers of 1024), `KB/MB/GB/TB` (powers of 1000), a
//! plain byte count, or the name of a medium.

/// The named media and their per-file limits, in bytes.
pub const MEDIA: [(&str, u64); 5] = [
    // FAT32: a file is at most 4 GiB - 1 bytes.
    ("fat32", (4 << 30) - 1),
    // Single-layer DVD: 4.7 GB (4,700,000,000 bytes; the disc holds 4,707,319,808).
    ("dvd", 4_700_000_000),
    // Dual-layer DVD: 8.5 GB.
    ("dvd-dl", 8_500_000_000),
    // Blu-ray, single and dual layer.
    ("bd25", 25_000_000_000),
    ("bd50", 50_000_000_000),
];

/// Parses a part size: `4G`, `700M`, `4700MB`, `1048576`, `fat32`, `dvd`, `dvd-dl`, `bd25`, `bd50`.
/// Zero is refused.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if let Some((_, v)) = MEDIA.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    let digits_end = t
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(t.len(), |(i, _)| i);
    let (num, unit) = t.split_at(digits_end);
    let bad = || {
        format!(
            "{s:?} is not a size: a number with K, M, G, T (powers of 1024) or KB, MB, GB, TB \
(powers of 1000), or one of fat32, dvd, dvd-dl, bd25, bd50"
        )
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KIB" => 1 << 10,
        "M" | "MIB" => 1 << 20,
        "G" | "GIB" => 1 << 30,
        "T" | "TIB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    let v = n
        .checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if v == 0 {
        return Err(format!("{s:?}: a part must hold at least one byte"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn units_and_names() {
        assert_eq!(parse_size("1").unwrap(), 1);
        assert_eq!(parse_size("512B").unwrap(), 512);
        assert_eq!(parse_size("4K").unwrap(), 4096);
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("3M").unwrap(), 3 << 20);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("1T").unwrap(), 1 << 40);
        assert_eq!(parse_size("5KB").unwrap(), 5_000);
        assert_eq!(parse_size("700MB").unwrap(), 700_000_000);
        assert_eq!(parse_size("4GB").unwrap(), 4_000_000_000);
        assert_eq!(parse_size("2TB").unwrap(), 2_000_000_000_000);
        assert_eq!(parse_size("fat32").unwrap(), 4_294_967_295);
        assert_eq!(parse_size("FAT32").unwrap(), 4_294_967_295);
        assert_eq!(parse_size("dvd").unwrap(), 4_700_000_000);
        assert_eq!(parse_size("dvd-dl").unwrap(), 8_500_000_000);
        assert_eq!(parse_size("bd25").unwrap(), 25_000_000_000);
        assert_eq!(parse_size("bd50").unwrap(), 50_000_000_000);
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "0",
            "0K",
            "K",
            "4X",
            "4 G",
            "-1",
            "1.5G",
            "dvd9",
            "99999999999999999999",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_size("20000000T").is_err(), "overflow accepted");
    }
}
