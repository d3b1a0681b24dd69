//! Secret tokens: session resume tokens and admin tokens.
//!
//! A token is 256 random bits from the operating system's generator, written in URL-safe
//! base64. Only its SHA-256 hash is stored; hashes are compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use holdfast_store::TokenHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The length of a token's text: 32 bytes in base64 without padding.
pub const TOKEN_LEN: usize = 43;

/// A new random token.
pub fn generate() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A new random public id (128 bits), for submissions.
pub fn public_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a server can recover from.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// The stored form of a token.
pub fn hash(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// True if `token` looks like one of ours (cheap check before touching the database).
pub fn looks_valid(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `presented` hashes to any of `known`, comparing every candidate in constant time.
pub fn matches_any(presented: &str, known: &[TokenHash]) -> bool {
    let presented = hash(presented);
    let mut found = subtle::Choice::from(0);
    for candidate in known {
        found |= candidate.0.ct_eq(&presented.0);
    }
    found.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(looks_valid(&a), "{a}");
        assert!(!looks_valid("short"));
        assert!(!looks_valid(&"/".repeat(TOKEN_LEN)));
    }

    #[test]
    fn matching_is_by_hash() {
        let token = generate();
        let known = vec![hash("other"), hash(&token)];
        assert!(matches_any(&token, &known));
        assert!(!matches_any("other-token", &known[1..]));
        assert!(!matches_any(&token, &[]));
    }
}
