//! SHA-256 in lower-case hex: the renderer's config checksums and template
//! fingerprints, and the cache's keys and file digests.

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// SHA-256 of a value's structure: every field its `Hash` impl visits, with
/// the lengths and terminators std writes for strings and collections, so
/// two different values do not share a digest the way two `u64` hashes can.
/// The bytes are native-endian: a digest is for this machine's cache only.
pub fn structure_hex(value: &impl std::hash::Hash) -> String {
    struct Feed(Sha256);
    impl std::hash::Hasher for Feed {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            let d = self.0.clone().finalize();
            u64::from_le_bytes(d[..8].try_into().unwrap_or_default())
        }
    }
    let mut feed = Feed(Sha256::new());
    value.hash(&mut feed);
    hex(&feed.0.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn structure_digests_tell_apart_what_differs_only_in_grouping() {
        let a = super::structure_hex(&("ab", "c"));
        assert_eq!(a, super::structure_hex(&("ab", "c")));
        assert_ne!(a, super::structure_hex(&("a", "bc")));
        assert_ne!(
            super::structure_hex(&vec![vec![1u8], vec![2]]),
            super::structure_hex(&vec![vec![1u8, 2]])
        );
    }
}
