//! DH-HMAC-CHAP cryptography (NVMe Base 2.2 §8.3.4.5): secrets in their textual
//! representation, the key transformation, and the two responses. Sans-IO; the message
//! layouts live in `dpu_nvmf_proto::auth`, the controller's state machine in
//! [`crate::auth`], the host's in the initiator.
//!
//! With the NULL DH group the challenges are used as they are; with one of the RFC 7919
//! groups ([`DhGroup`], ffdhe2048-8192) both sides exchange ephemeral public values and each
//! challenge is first augmented with the session key (`Ca = HMAC(H(Ks), C)`, §8.3.4.5.5), so
//! a recorded exchange gives an attacker nothing to test guessed secrets against. Secrets,
//! private exponents and session keys are zeroed on drop and never printed.

use std::fmt;
use std::str::FromStr;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use dpu_nvmf_proto::auth::{dh_group, hash};
use ring::hmac;
use zeroize::Zeroizing;

use crate::ffdhe;

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
    /// Not a DH group of DH-HMAC-CHAP.
    #[error("unknown DH group {0} (0: null, 1-5: ffdhe2048, 3072, 4096, 6144, 8192)")]
    DhGroup(u8),
    /// Not a hash of DH-HMAC-CHAP.
    #[error("unknown hash {0} (0: the host's choice, 1-3: sha256, sha384, sha512)")]
    HashId(u8),
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

/// The challenge augmented with a DH session key: HMAC(H(Ks), C) with the transaction's
/// hash, whose digest of Ks is the HMAC key (§8.3.4.5.5; as Linux computes it).
pub fn augmented_challenge(hash_id: u8, session_key: &[u8], challenge: &[u8]) -> Option<Vec<u8>> {
    let alg = algorithm(hash_id)?;
    let digest = match hash_id {
        hash::SHA256 => ring::digest::digest(&ring::digest::SHA256, session_key),
        hash::SHA384 => ring::digest::digest(&ring::digest::SHA384, session_key),
        _ => ring::digest::digest(&ring::digest::SHA512, session_key),
    };
    let key = hmac::Key::new(alg, digest.as_ref());
    Some(hmac::sign(&key, challenge).as_ref().to_vec())
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

/// The DHGID of a DH group named as nvmet and nvme-cli name them (`null`, `ffdhe2048`, ...;
/// empty is `null`).
pub fn dh_group_id(name: &str) -> Option<u8> {
    match name.trim().to_ascii_lowercase().as_str() {
        "" | "null" => Some(dh_group::NULL),
        "ffdhe2048" => Some(dh_group::FFDHE2048),
        "ffdhe3072" => Some(dh_group::FFDHE3072),
        "ffdhe4096" => Some(dh_group::FFDHE4096),
        "ffdhe6144" => Some(dh_group::FFDHE6144),
        "ffdhe8192" => Some(dh_group::FFDHE8192),
        _ => None,
    }
}

/// The HashID of a hash named as nvmet names them (`sha256`, `hmac(sha256)`, ...), or 0
/// (the host's first choice) for an empty name.
pub fn hash_id(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    let bare = name.strip_prefix("hmac(").and_then(|n| n.strip_suffix(')')).unwrap_or(&name);
    match bare {
        "" => Some(0),
        "sha256" => Some(hash::SHA256),
        "sha384" => Some(hash::SHA384),
        "sha512" => Some(hash::SHA512),
        _ => None,
    }
}

/// A finite-field Diffie-Hellman group of RFC 7919 (generator 2), DHGID 1-5.
pub struct DhGroup {
    id: u8,
    /// Bytes of the prime, and so of every public value and session key.
    len: usize,
    /// Bits of a private exponent: twice the group's security strength or more (RFC 7919
    /// §5.2), far below the prime's size, which keeps each exponentiation short.
    exponent_bits: u32,
    params: BoxedMontyParams,
    /// p - 1: a public value must lie strictly between 1 and it.
    p_minus_1: BoxedUint,
}

impl fmt::Debug for DhGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ffdhe{}", self.len * 8)
    }
}

/// An ephemeral key pair of one transaction: the private exponent (zeroed on drop) and the
/// public value g^x mod p, big endian, as long as the prime.
pub struct DhKey {
    group: &'static DhGroup,
    private: Zeroizing<BoxedUint>,
    /// The public value to send.
    pub public: Vec<u8>,
}

impl fmt::Debug for DhKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DhKey({:?}, private redacted)", self.group)
    }
}

impl DhGroup {
    /// The group `id` (1-5: ffdhe2048, 3072, 4096, 6144, 8192), set up on first use.
    pub fn get(id: u8) -> Option<&'static DhGroup> {
        static GROUPS: [OnceLock<Option<DhGroup>>; 5] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let (hex_prime, exponent_bits) = match id {
            dh_group::FFDHE2048 => (ffdhe::FFDHE2048, 256),
            dh_group::FFDHE3072 => (ffdhe::FFDHE3072, 320),
            dh_group::FFDHE4096 => (ffdhe::FFDHE4096, 384),
            dh_group::FFDHE6144 => (ffdhe::FFDHE6144, 448),
            dh_group::FFDHE8192 => (ffdhe::FFDHE8192, 512),
            _ => return None,
        };
        GROUPS[usize::from(id - 1)]
            .get_or_init(|| {
                let bytes = hex::decode(hex_prime).ok()?;
                let bits = (bytes.len() * 8) as u32;
                let p = BoxedUint::from_be_slice(&bytes, bits).ok()?;
                let p_minus_1 = p.wrapping_sub(BoxedUint::one_with_precision(bits));
                // The prime is public: setting up its Montgomery form may take variable time.
                let params = BoxedMontyParams::new_vartime(Odd::new(p).into_option()?);
                Some(DhGroup { id, len: bytes.len(), exponent_bits, params, p_minus_1 })
            })
            .as_ref()
    }

    /// The group's DHGID.
    pub fn id(&self) -> u8 {
        self.id
    }

    /// Bytes of a public value or session key (the prime's length).
    pub fn value_len(&self) -> usize {
        self.len
    }

    /// A fresh key pair; `None` if the system's generator fails. The exponentiation is
    /// constant time in the private exponent.
    pub fn generate(&'static self) -> Option<DhKey> {
        let bits = self.exponent_bits;
        let random = Zeroizing::new(random_bytes(bits as usize / 8)?);
        let private = Zeroizing::new(BoxedUint::from_be_slice(&random, bits).ok()?);
        let two = BoxedUint::from_be_slice(&[2], self.params.bits_precision()).ok()?;
        let g = BoxedMontyForm::new(two, &self.params);
        let public = g.pow(&private).retrieve().to_be_bytes().to_vec();
        Some(DhKey { group: self, private, public })
    }
}

impl DhKey {
    /// The session key with the peer's public value `peer` (g^y mod p, as long as the
    /// prime), big endian and as long as the prime; `None` for a value of the wrong length
    /// or not strictly between 1 and p - 1 (RFC 7919 §5.1: with a safe prime that rules
    /// out the small subgroups).
    pub fn session_key(&self, peer: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let g = self.group;
        if peer.len() != g.len {
            return None;
        }
        let bits = g.params.bits_precision();
        let y = BoxedUint::from_be_slice(peer, bits).ok()?;
        let one = BoxedUint::one_with_precision(bits);
        if y <= one || y >= g.p_minus_1 {
            return None;
        }
        let shared = BoxedMontyForm::new(y, &g.params).pow(&self.private).retrieve();
        Some(Zeroizing::new(shared.to_be_bytes().to_vec()))
    }
}

/// Compares two responses in time independent of where they differ (`ctutils`, which
/// `crypto-bigint` uses: conditional moves the optimiser cannot turn into an early exit,
/// where a hand-written fold is only a hope). Lengths are public.
pub fn responses_match(a: &[u8], b: &[u8]) -> bool {
    use crypto_bigint::ctutils::CtEq as _;
    a.ct_eq(b).to_bool()
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

    /// Each prime has RFC 7919's form (top and bottom 64 bits set) and two keys agree in
    /// each group; the two smallest also pass a Fermat test base 2, and 2 is a quadratic
    /// residue of them (2^((p-1)/2) = 1, as for every prime p = 7 mod 8). Neither shows
    /// that a prime is safe, nor the larger ones' (their full-length exponentiations would
    /// take seconds in a debug build, minutes under qemu-user): that each prime is RFC
    /// 7919's digit for digit is the digests' test below.
    #[test]
    fn the_groups_have_rfc_7919_form_and_agree_on_keys() {
        for id in 1..=5u8 {
            let g = DhGroup::get(id).unwrap();
            let bytes = g.params.modulus().as_ref().to_be_bytes();
            assert_eq!(bytes.len(), g.value_len());
            assert!(bytes[..8].iter().chain(&bytes[bytes.len() - 8..]).all(|&b| b == 0xFF));
            let (a, b) = (g.generate().unwrap(), g.generate().unwrap());
            assert_eq!(*a.session_key(&b.public).unwrap(), *b.session_key(&a.public).unwrap());
        }
        for id in [dh_group::FFDHE2048, dh_group::FFDHE3072] {
            let g = DhGroup::get(id).unwrap();
            let bits = g.params.bits_precision();
            let two = BoxedMontyForm::new(BoxedUint::from_be_slice(&[2], bits).unwrap(), &g.params);
            let one = BoxedUint::one_with_precision(bits);
            // 2^(p-1) = 1 (mod p), and 2^((p-1)/2) = 1 since 2 is a quadratic residue.
            assert_eq!(two.pow(&g.p_minus_1).retrieve(), one, "ffdhe{bits}");
            assert_eq!(two.pow(&g.p_minus_1.shr(1)).retrieve(), one, "ffdhe{bits}");
        }
        assert!(DhGroup::get(0).is_none() && DhGroup::get(6).is_none());
    }

    /// Each group's prime is, digit for digit, the one OpenSSL has for the named group
    /// (RFC 7919 Appendix A): the SHA-256 of its big-endian bytes. The digests were taken
    /// with OpenSSL 3.0.19, not from `ffdhe.rs`: `openssl genpkey -genparam -algorithm DH
    /// -pkeyopt group:ffdheN | openssl asn1parse` prints P as the first INTEGER, whose hex
    /// went through `xxd -r -p | sha256sum`. A typo anywhere in a prime fails here; the
    /// form and the agreement above would not see one in the middle.
    #[test]
    fn each_prime_is_the_rfc_7919_prime_openssl_has() {
        let digests = [
            (
                dh_group::FFDHE2048,
                "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966",
            ),
            (
                dh_group::FFDHE3072,
                "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17",
            ),
            (
                dh_group::FFDHE4096,
                "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e",
            ),
            (
                dh_group::FFDHE6144,
                "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7",
            ),
            (
                dh_group::FFDHE8192,
                "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833",
            ),
        ];
        for (id, want) in digests {
            let g = DhGroup::get(id).unwrap();
            let p = g.params.modulus().as_ref().to_be_bytes();
            assert_eq!(p.len(), g.value_len(), "DH group {id}: no leading zero byte");
            let got = ring::digest::digest(&ring::digest::SHA256, &p);
            assert_eq!(hex::encode(got.as_ref()), want, "DH group {id}");
        }
    }

    #[test]
    fn both_sides_derive_one_session_key_and_bad_public_values_are_refused() {
        let g = DhGroup::get(dh_group::FFDHE2048).unwrap();
        let (a, b) = (g.generate().unwrap(), g.generate().unwrap());
        assert_eq!(a.public.len(), 256);
        assert_ne!(a.public, b.public);
        let ka = a.session_key(&b.public).unwrap();
        assert_eq!(*ka, *b.session_key(&a.public).unwrap());
        assert_eq!(ka.len(), 256);
        let mut one = vec![0u8; 256];
        one[255] = 1;
        assert!(a.session_key(&one).is_none(), "1 is refused");
        assert!(a.session_key(&[0u8; 256]).is_none(), "0 is refused");
        let p_minus_1 = g.p_minus_1.to_be_bytes();
        assert!(a.session_key(&p_minus_1).is_none(), "p - 1 is refused");
        assert!(a.session_key(&[0xFF; 256]).is_none(), "above p is refused");
        assert!(a.session_key(&b.public[1..]).is_none(), "short is refused");
        // The augmented challenge is HMAC keyed with the session key's digest.
        let c = [7u8; 32];
        let aug = augmented_challenge(hash::SHA256, &ka, &c).unwrap();
        let key = ring::digest::digest(&ring::digest::SHA256, &ka);
        assert_eq!(aug, hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()), &c).as_ref());
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
        let mut last = r1.clone();
        last[31] ^= 0x80;
        assert!(!responses_match(&r1, &last), "a difference in the last bit counts");
        assert!(!responses_match(&r1, &r1[..31]) && !responses_match(&r1[..31], &r1));
        assert!(host_response(&Exchange { hash: 9, ..x }, &host, "a", "b").is_none());
        assert_ne!(random_seqnum().unwrap(), 0);
    }
}
