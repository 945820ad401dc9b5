//! Capped reads: the one helper every small file or body that must fit a limit is read through.

use std::io::{self, Read};

/// Reads `r` to its end when it holds at most `cap` bytes (`Some`); `None` when it holds more, in
/// which case exactly `cap + 1` bytes were read and the rest was left unread.
pub fn read_capped<R: Read>(r: R, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    r.take(cap.saturating_add(1)).read_to_end(&mut buf)?;
    Ok(u64::try_from(buf.len())
        .is_ok_and(|n| n <= cap)
        .then_some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_cap_plus_one_bytes_are_read() {
        assert_eq!(read_capped(&b"abc"[..], 3).unwrap(), Some(b"abc".to_vec()));
        assert_eq!(read_capped(&b""[..], 0).unwrap(), Some(Vec::new()));
        let mut r = &b"abcdef"[..];
        assert_eq!(read_capped(&mut r, 3).unwrap(), None);
        assert_eq!(r, b"ef", "cap + 1 bytes read, the rest left");
        assert_eq!(
            read_capped(&b"abc"[..], u64::MAX).unwrap(),
            Some(b"abc".to_vec())
        );
    }
}
