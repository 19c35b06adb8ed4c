//! DH-HMAC-CHAP cryptography (NVMe Base 2.2 §8.3.4.5): secrets in their textual
//! representation, the key transformation, and the two responses. Sans-IO; the message
//! layouts live in `dpu_nvmf_proto::auth`, the controller's state machine in
//! [`crate::auth`], the host's in the initiator.
//!
//! Only the NULL DH group is implemented: the challenges are used as they are (what
//! Linux's nvmet does unless a group is configured). Secrets are zeroed on drop and never
//! printed.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dpu_nvmf_proto::auth::hash;
use ring::hmac;
use zeroize::Zeroizing;

/// Why a secret's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not `DHHC-1:<hh>:<base64>:`.
    #[error("a DH-HMAC-CHAP secret has the form DHHC-1:<00|01|02|03>:<base64>:")]
    Format,
    /// The transformation hash is not 00 (none), 01, 02 or 03 (SHA-256/384/512).
    #[error("unknown secret transformation hash {0:?} (00, 01, 02 or 03)")]
    Hash(String),
    /// The base64 part does not decode.
    #[error("the secret's base64 does not decode")]
    Base64,
    /// The key is not 32, 48 or 64 bytes.
    #[error("the secret's key is {0} bytes; it must be 32, 48 or 64")]
    Length(usize),
    /// The CRC-32 after the key does not match it.
    #[error("the secret's CRC-32 does not match its key (mistyped?)")]
    Crc,
    /// The controller secret equals the host's.
    #[error("the controller secret must differ from the host's")]
    Reused,
}

/// A DH-HMAC-CHAP secret: a key of 32, 48 or 64 bytes and the hash (if any) that turns
/// it into the key of one NQN (§8.3.4.5.9 "DH-HMAC-CHAP secret representation").
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// 0: used as it is; 1-3: transformed with SHA-256/384/512.
    transform: u8,
    key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(DHHC-1:{:02}, {} bytes, redacted)", self.transform, self.key.len())
    }
}

impl FromStr for Secret {
    type Err = SecretError;

    /// Parses `DHHC-1:<hh>:<base64 of key || CRC-32 (little endian)>:`, as
    /// `nvme gen-dhchap-key` prints it (the final colon may be left out).
    fn from_str(s: &str) -> Result<Self, SecretError> {
        let rest = s.trim().strip_prefix("DHHC-1:").ok_or(SecretError::Format)?;
        let (hh, b64) = rest.split_once(':').ok_or(SecretError::Format)?;
        let transform = match hh {
            "00" => 0,
            "01" => hash::SHA256,
            "02" => hash::SHA384,
            "03" => hash::SHA512,
            // Anything but two characters is no hash field: the key may have slid in.
            other if other.len() != 2 => return Err(SecretError::Format),
            other => return Err(SecretError::Hash(other.to_owned())),
        };
        let b64 = b64.strip_suffix(':').unwrap_or(b64);
        let raw = Zeroizing::new(STANDARD.decode(b64).map_err(|_| SecretError::Base64)?);
        let key_len = raw.len().saturating_sub(4);
        if !matches!(key_len, 32 | 48 | 64) {
            return Err(SecretError::Length(key_len));
        }
        let (key, crc) = raw.split_at(key_len);
        if crc32fast::hash(key).to_le_bytes() != crc {
            return Err(SecretError::Crc);
        }
        Ok(Secret { transform, key: Zeroizing::new(key.to_vec()) })
    }
}

impl Secret {
    /// A secret of `key` (32, 48 or 64 bytes) transformed with hash `transform` (0-3).
    pub fn new(key: &[u8], transform: u8) -> Result<Self, SecretError> {
        if !matches!(key.len(), 32 | 48 | 64) {
            return Err(SecretError::Length(key.len()));
        }
        if transform > hash::SHA512 {
            return Err(SecretError::Hash(format!("{transform:02}")));
        }
        Ok(Secret { transform, key: Zeroizing::new(key.to_vec()) })
    }

    /// The textual representation, for handing a secret to a host (`nvme connect
    /// --dhchap-secret`). Secret material: never log it.
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(self.key.to_vec());
        raw.extend_from_slice(&crc32fast::hash(&self.key).to_le_bytes());
        Zeroizing::new(format!("DHHC-1:{:02}:{}:", self.transform, STANDARD.encode(&*raw)))
    }

    /// The key for `nqn`: the secret itself, or HMAC(secret, NQN || "NVMe-over-Fabrics")
    /// with the secret's transformation hash.
    fn key_for(&self, nqn: &str) -> Zeroizing<Vec<u8>> {
        let Some(alg) = algorithm(self.transform) else { return self.key.clone() };
        let k = hmac::Key::new(alg, &self.key);
        let mut ctx = hmac::Context::with_key(&k);
        ctx.update(nqn.as_bytes());
        ctx.update(b"NVMe-over-Fabrics");
        Zeroizing::new(ctx.sign().as_ref().to_vec())
    }
}

fn algorithm(hash_id: u8) -> Option<hmac::Algorithm> {
    match hash_id {
        hash::SHA256 => Some(hmac::HMAC_SHA256),
        hash::SHA384 => Some(hmac::HMAC_SHA384),
        hash::SHA512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

/// The inputs of one response: who answers and to what.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The transaction's hash function.
    pub hash: u8,
    /// The challenge (C1 for the host's response, C2 for the controller's).
    pub challenge: &'a [u8],
    /// The sequence number sent with the challenge (S1, or S2).
    pub seqnum: u32,
    /// The transaction identifier.
    pub tid: u16,
    /// The secure channel concatenation byte of the Negotiate message.
    pub sc_c: u8,
}

/// The host's response R1 = HMAC(Kh, C1 || S1 || T_ID || SC_C || "HostHost" || NQNh ||
/// 00h || NQNc), where Kh is the host's secret transformed for its NQN. `None` for an
/// unknown hash.
pub fn host_response(
    x: &Exchange<'_>,
    host_secret: &Secret,
    hostnqn: &str,
    subnqn: &str,
) -> Option<Vec<u8>> {
    respond(x, &host_secret.key_for(hostnqn), b"HostHost", hostnqn, subnqn)
}

/// The controller's response R2 = HMAC(Kc, C2 || S2 || T_ID || SC_C || "Controller" ||
/// NQNc || 00h || NQNh), where Kc is the controller secret transformed for the subsystem
/// NQN.
pub fn controller_response(
    x: &Exchange<'_>,
    ctrl_secret: &Secret,
    subnqn: &str,
    hostnqn: &str,
) -> Option<Vec<u8>> {
    respond(x, &ctrl_secret.key_for(subnqn), b"Controller", subnqn, hostnqn)
}

fn respond(
    x: &Exchange<'_>,
    key: &[u8],
    role: &[u8],
    first: &str,
    second: &str,
) -> Option<Vec<u8>> {
    let k = hmac::Key::new(algorithm(x.hash)?, key);
    let mut ctx = hmac::Context::with_key(&k);
    ctx.update(x.challenge);
    ctx.update(&x.seqnum.to_le_bytes());
    ctx.update(&x.tid.to_le_bytes());
    ctx.update(&[x.sc_c]);
    ctx.update(role);
    ctx.update(first.as_bytes());
    ctx.update(&[0]);
    ctx.update(second.as_bytes());
    Some(ctx.sign().as_ref().to_vec())
}

/// Compares two responses in time independent of where they differ.
pub fn responses_match(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `len` random bytes (challenges); `None` if the system's generator fails.
pub fn random_bytes(len: usize) -> Option<Vec<u8>> {
    use ring::rand::SecureRandom as _;
    let mut v = vec![0; len];
    ring::rand::SystemRandom::new().fill(&mut v).ok()?;
    Some(v)
}

/// A random non-zero sequence number (0 means "no controller authentication" in a
/// Reply).
pub fn random_seqnum() -> Option<u32> {
    loop {
        let b = random_bytes(4)?;
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if n != 0 {
            return Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secret_text_round_trips_and_errors_are_named() {
        let s = Secret::new(&[7; 48], hash::SHA384).unwrap();
        let text = s.to_text();
        assert!(text.starts_with("DHHC-1:02:") && text.ends_with(':'));
        assert_eq!(text.parse::<Secret>().unwrap(), s);
        // Without the final colon too.
        assert_eq!(text.trim_end_matches(':').parse::<Secret>().unwrap(), s);
        assert!(!format!("{s:?}").contains("BwcH"), "Debug must not print the key");
        assert_eq!("DHHC-2:00:AAAA:".parse::<Secret>(), Err(SecretError::Format));
        assert!(matches!("DHHC-1:04:AAAA:".parse::<Secret>(), Err(SecretError::Hash(_))));
        // A missing hash field never shows the key in the error.
        let no_hash = "DHHC-1:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0AAAAAA==:";
        assert_eq!(no_hash.parse::<Secret>(), Err(SecretError::Format));
        assert_eq!("DHHC-1:00:!!!:".parse::<Secret>(), Err(SecretError::Base64));
        let short = format!("DHHC-1:00:{}:", STANDARD.encode([1u8; 20]));
        assert_eq!(short.parse::<Secret>(), Err(SecretError::Length(16)));
        // One flipped bit of the key: the CRC catches it.
        let mut raw = STANDARD.decode(&text[10..text.len() - 1]).unwrap();
        raw[0] ^= 1;
        let bad = format!("DHHC-1:02:{}:", STANDARD.encode(&raw));
        assert_eq!(bad.parse::<Secret>(), Err(SecretError::Crc));
    }

    #[test]
    fn a_secret_from_nvme_cli_parses() {
        // `nvme gen-dhchap-key --key-length=32 --hmac=0` printed these (nvme-cli 2.3).
        let s: Secret =
            "DHHC-1:00:nolaKogdD6Hp5EZGJWBx2OqOMTiLSpENBf0XJOaRPO5N90oh:".parse().unwrap();
        assert_eq!(s.key.len(), 32);
        let s: Secret =
            "DHHC-1:02:x4uoens/Ru4Gg3Ir6HKZYwZ6wGo/k/Lj3tJHggJXOiL8Q/CZY2B0LuFfh9pmvC38jcRIgQ==:"
                .parse()
                .unwrap();
        assert_eq!((s.key.len(), s.transform), (48, hash::SHA384));
    }

    #[test]
    fn responses_bind_every_input() {
        let host = Secret::new(&[1; 32], 0).unwrap();
        let ctrl = Secret::new(&[2; 32], hash::SHA256).unwrap();
        let c = [9u8; 32];
        let x = Exchange { hash: hash::SHA256, challenge: &c, seqnum: 5, tid: 1, sc_c: 0 };
        let r1 = host_response(&x, &host, "nqn.h", "nqn.s").unwrap();
        assert_eq!(r1.len(), 32);
        // HMAC-SHA256 with the plain key over the documented concatenation.
        let k = hmac::Key::new(hmac::HMAC_SHA256, &[1; 32]);
        let mut m = c.to_vec();
        m.extend_from_slice(&5u32.to_le_bytes());
        m.extend_from_slice(&1u16.to_le_bytes());
        m.push(0);
        m.extend_from_slice(b"HostHostnqn.h\0nqn.s");
        assert_eq!(r1, hmac::sign(&k, &m).as_ref());
        for other in [
            Exchange { seqnum: 6, ..x },
            Exchange { tid: 2, ..x },
            Exchange { hash: hash::SHA512, ..x },
        ] {
            assert_ne!(host_response(&other, &host, "nqn.h", "nqn.s").unwrap(), r1);
        }
        assert_ne!(host_response(&x, &host, "nqn.h2", "nqn.s").unwrap(), r1);
        let r2 = controller_response(&x, &ctrl, "nqn.s", "nqn.h").unwrap();
        assert_ne!(r2, r1);
        assert!(responses_match(&r1, &r1.clone()) && !responses_match(&r1, &r2));
        assert!(host_response(&Exchange { hash: 9, ..x }, &host, "a", "b").is_none());
        assert_ne!(random_seqnum().unwrap(), 0);
    }
}
