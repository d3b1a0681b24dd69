//! Signing webhook bodies, and checking a signature the way a receiver should.
//!
//! Every delivery carries
//!
//! ```text
//! Holdfast-Signature: t=1801411200,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//! ```
//!
//! where `t` is the time of the attempt in seconds since the Unix epoch and `v1` is the
//! lowercase hex HMAC-SHA256, keyed with the endpoint's secret (its UTF-8 bytes, `whsec_`
//! prefix included), of the timestamp, a full stop and the raw body: `"{t}.{body}"`. A
//! receiver recomputes it over the bytes it received (before parsing the JSON), compares in
//! constant time, and refuses a `t` more than five minutes from its own clock, so a recorded
//! delivery cannot be replayed later. More than one `v1` may appear (for a future change of
//! secret); one matching is enough.

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "Holdfast-Signature";

/// How far a receiver should let `t` be from its own clock, in seconds.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The prefix of generated secrets, so that one is recognised when pasted somewhere.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: 256 bits from the operating system's generator.
pub fn generate_secret() -> String {
    format!("{SECRET_PREFIX}{}", crate::tokens::generate())
}

/// HMAC-SHA256 keyed with `key`, ready for the message.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    #[allow(clippy::expect_used)]
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// HMAC-SHA256 of `"{timestamp}.{body}"` keyed with the secret.
fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret.as_bytes());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The value of the `Holdfast-Signature` header.
pub fn header_value(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The header is not `t=…,v1=…`.
    #[error("the signature header is not of the form t=…,v1=…")]
    Malformed,
    /// `t` is too far from the receiver's clock.
    #[error("the signature's timestamp is more than {TOLERANCE_SECONDS} s away")]
    Stale,
    /// No `v1` matches.
    #[error("no signature matches the body")]
    Mismatch,
}

/// Checks a `Holdfast-Signature` header against the body received, at `now` (seconds).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Refused> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if candidates.is_empty() {
        return Err(Refused::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Refused::Stale);
    }
    let expected = mac(secret, timestamp, body);
    for candidate in candidates {
        if let Some(bytes) = decode_hex(candidate)
            && expected.clone().verify_slice(&bytes).is_ok()
        {
            return Ok(());
        }
    }
    Err(Refused::Mismatch)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_plain_hmac_sha256() {
        // RFC 2104 by hand: H(K ^ opad || H(K ^ ipad || m)), m = "{t}.{body}".
        use sha2::Digest;
        let key = b"whsec_test";
        let message = b"1801411200.{\"id\":\"evt_1\"}";
        let mut block = [0u8; 64];
        block[..key.len()].copy_from_slice(key);
        let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
        let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sha256::new()
            .chain_update(&inner)
            .chain_update(message)
            .finalize();
        let expected = Sha256::new()
            .chain_update(&outer)
            .chain_update(inner)
            .finalize();
        let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            sign("whsec_test", 1_801_411_200, b"{\"id\":\"evt_1\"}"),
            expected
        );
    }

    #[test]
    fn receivers_in_other_languages_agree() {
        // Computed with Python's hmac module, as docs/operating.md shows receivers.
        assert_eq!(
            header_value("whsec_test", 1_801_411_200, b"{\"id\":\"evt_1\"}"),
            "t=1801411200,v1=cf207f44917cd7f90c2352312a27688c7cac08f83bff5fe7258c1ad74ae244c3"
        );
    }

    #[test]
    fn matches_the_rfc_4231_vector() {
        // Test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = keyed(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let digest: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_signature_verifies_and_tampering_does_not() {
        let secret = generate_secret();
        assert!(secret.starts_with(SECRET_PREFIX));
        assert_eq!(secret.len(), SECRET_PREFIX.len() + 43, "256 bits");
        let body = br#"{"id":"evt_1","type":"maintenance.scheduled"}"#;
        let header = header_value(&secret, 1_000, body);
        assert_eq!(verify(&secret, &header, body, 1_010), Ok(()));
        assert_eq!(
            verify(&secret, &header, b"{\"id\":\"evt_2\"}", 1_010),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", &header, body, 1_010),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify(&secret, &header, body, 1_000 + TOLERANCE_SECONDS + 1),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify(&secret, "v1=abc", body, 1_000),
            Err(Refused::Malformed)
        );
        // A second signature (another secret) alongside does not stop the right one.
        let both = format!("{header},v1={}", sign("whsec_other", 1_000, body));
        assert_eq!(verify(&secret, &both, body, 1_000), Ok(()));
    }
}
