//! A development PKI: one CA for the server, one issuing CA per client role.
//!
//! Separate client CAs make the role a property of who signed the certificate, which is how the
//! agent decides it; on a fleet the operator's own PKI takes their place.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

use crate::{PkiError, Result};

/// The files `init_dev_pki` wrote.
#[derive(Debug, Clone)]
pub struct DevPki {
    pub dir: PathBuf,
}

impl DevPki {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

/// Writes `contents` to `path`, a key `secret` (0600). The mode is set on the open file
/// before anything is written: `mode` on open applies only to a file it creates, so a key
/// written over an existing 0644 file would stay readable. A symlink at `path` is refused
/// (O_NOFOLLOW), not followed to wherever it points.
pub(crate) fn write(path: &Path, contents: &str, secret: bool) -> Result<()> {
    let mode = if secret { 0o600 } else { 0o644 };
    let wrap = |source| PkiError::Write { path: path.into(), source };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(wrap)?;
    file.set_permissions(fs::Permissions::from_mode(mode)).map_err(wrap)?;
    file.write_all(contents.as_bytes()).map_err(wrap)?;
    Ok(())
}

/// How long a development CA is valid; its certificates are for [`LEAF_VALIDITY`], then
/// `certs init` again.
const CA_VALIDITY: time::Duration = time::Duration::days(3650);
const LEAF_VALIDITY: time::Duration = time::Duration::days(365);
/// A certificate is valid from this long before it is made: the card whose clock checks it
/// may be behind the machine that made it.
const CLOCK_SKEW: time::Duration = time::Duration::days(1);

/// Valid from a little before now for `validity` (rcgen's default is 1975..4096, which
/// never expires a lost key).
fn set_validity(params: &mut CertificateParams, validity: time::Duration) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - CLOCK_SKEW;
    params.not_after = now + validity;
}

pub(crate) fn ca_params(common_name: &str) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "dpu-services development");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, CA_VALIDITY);
    Ok(params)
}

pub(crate) fn leaf_params(
    common_name: &str,
    sans: &[String],
    server: bool,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(sans.to_vec())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "dpu-services development");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    set_validity(&mut params, LEAF_VALIDITY);
    Ok(params)
}

/// Writes a development PKI into `dir` (created if needed):
/// `ca.crt/key` (signs `server.crt/key`, whose SANs are `server_sans`), `host-ca.crt/key` (signs
/// `host.crt/key`) and `operator-ca.crt/key` (signs `operator.crt/key`). Keys are mode 0600.
/// The CAs are valid for ten years, the other certificates for one, both from a day ago.
/// A client CA's CRL `revoke` wrote (`host-ca.crl`, `operator-ca.crl`) is written again,
/// empty, signed by the new CA.
pub fn init_dev_pki(dir: &Path, server_sans: &[String]) -> Result<DevPki> {
    fs::create_dir_all(dir).map_err(|source| PkiError::Write { path: dir.into(), source })?;

    let server_ca =
        CertifiedIssuer::self_signed(ca_params("dpu dev server CA")?, KeyPair::generate()?)?;
    write(&dir.join("ca.crt"), &server_ca.pem(), false)?;
    write(&dir.join("ca.key"), &server_ca.key().serialize_pem(), true)?;

    let server_key = KeyPair::generate()?;
    let server = leaf_params("dpud", server_sans, true)?.signed_by(&server_key, &server_ca)?;
    write(&dir.join("server.crt"), &server.pem(), false)?;
    write(&dir.join("server.key"), &server_key.serialize_pem(), true)?;

    for role in ["host", "operator"] {
        let ca = CertifiedIssuer::self_signed(
            ca_params(&format!("dpu dev {role} client CA"))?,
            KeyPair::generate()?,
        )?;
        write(&dir.join(format!("{role}-ca.crt")), &ca.pem(), false)?;
        write(&dir.join(format!("{role}-ca.key")), &ca.key().serialize_pem(), true)?;
        // A CRL an earlier `revoke` wrote is signed by the key just replaced: webpki would
        // fail its signature at every handshake of this CA's clients. It revoked only
        // certificates of the old CA, so the new one's is empty.
        let crl = dir.join(format!("{role}-ca.crl"));
        if crl.exists() {
            write_crl(&crl, &ca, &[], time::OffsetDateTime::now_utc())?;
        }
        let key = KeyPair::generate()?;
        let cert = leaf_params(&format!("dpuctl {role}"), &[], false)?.signed_by(&key, &ca)?;
        write(&dir.join(format!("{role}.crt")), &cert.pem(), false)?;
        write(&dir.join(format!("{role}.key")), &key.serialize_pem(), true)?;
    }
    Ok(DevPki { dir: dir.to_owned() })
}

/// The SANs the development server certificate gets by default.
pub fn default_server_sans() -> Vec<String> {
    ["192.168.100.2", "localhost", "127.0.0.1"].map(String::from).to_vec()
}

/// Revokes `cert`, a client certificate of the development PKI in `dir`: adds its serial to
/// the CRL of the client CA that issued it (`host-ca.crl` or `operator-ca.crl`, PEM, made on
/// the first revocation, signed with that CA's key) and returns the CRL's path. An agent
/// whose `[tls] crls` lists the file refuses the certificate from its next start. Revoking a
/// certificate twice changes nothing.
pub fn revoke(dir: &Path, cert: &Path) -> Result<PathBuf> {
    revoke_at(dir, cert, time::OffsetDateTime::now_utc())
}

/// [`revoke`] at the time `now`.
pub(crate) fn revoke_at(dir: &Path, cert: &Path, now: time::OffsetDateTime) -> Result<PathBuf> {
    let leaf = crate::load_certs(cert)?.remove(0);
    let (_, leaf_x509) = x509_parser::parse_x509_certificate(&leaf)
        .map_err(|e| PkiError::Pem { path: cert.into(), detail: e.to_string() })?;
    let issuer = leaf_x509.tbs_certificate.issuer.as_raw();
    for role in ["host", "operator"] {
        let ca_path = dir.join(format!("{role}-ca.crt"));
        let Ok(ca_certs) = crate::load_certs(&ca_path) else { continue };
        let ca = &ca_certs[0];
        let (_, ca_x509) = x509_parser::parse_x509_certificate(ca)
            .map_err(|e| PkiError::Pem { path: ca_path.clone(), detail: e.to_string() })?;
        if ca_x509.tbs_certificate.subject.as_raw() != issuer {
            continue;
        }
        let crl_path = dir.join(format!("{role}-ca.crl"));
        let mut revoked = revoked_entries(&crl_path)?;
        let serial = strip_leading_zeros(leaf_x509.tbs_certificate.raw_serial()).to_vec();
        if revoked.iter().any(|(s, _)| *s == serial) {
            return Ok(crl_path);
        }
        revoked.push((serial, now));
        let key_path = dir.join(format!("{role}-ca.key"));
        let key_pem = String::from_utf8(crate::read_key_file(&key_path)?)
            .map_err(|e| PkiError::Pem { path: key_path.clone(), detail: e.to_string() })?;
        let key = KeyPair::from_pem(&key_pem)?;
        let issuer = rcgen::Issuer::from_ca_cert_der(ca, key)?;
        write_crl(&crl_path, &issuer, &revoked, now)?;
        return Ok(crl_path);
    }
    Err(PkiError::Verifier(format!(
        "{} was not issued by host-ca.crt or operator-ca.crt in {}",
        cert.display(),
        dir.display()
    )))
}

/// A revoked certificate: its serial (as [`strip_leading_zeros`] gives it) and when it was
/// revoked.
type Revoked = (Vec<u8>, time::OffsetDateTime);

/// Writes to `path` the CRL of `issuer` that lists `revoked`, issued at `now`. Each entry
/// keeps its own date: RFC 5280 §5.3.1 revocationDate is when that certificate was revoked.
fn write_crl(
    path: &Path,
    issuer: &rcgen::Issuer<'_, impl rcgen::SigningKey>,
    revoked: &[Revoked],
    now: time::OffsetDateTime,
) -> Result<()> {
    let params = rcgen::CertificateRevocationListParams {
        this_update: now,
        // The agent does not enforce nextUpdate; a year keeps other tools quiet.
        next_update: now + time::Duration::days(365),
        // RFC 5280 §5.2.3: increases with each CRL, which here adds one serial each.
        crl_number: rcgen::SerialNumber::from(revoked.len() as u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|(serial, date)| rcgen::RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(serial),
                revocation_time: *date,
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    write(path, &params.signed_by(issuer)?.pem()?, false)
}

/// The certificates a CRL file lists, with their revocation dates (none when the file does
/// not exist yet).
fn revoked_entries(path: &Path) -> Result<Vec<Revoked>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut revoked = Vec::new();
    for der in crate::load_crls(path)? {
        let (_, crl) = x509_parser::parse_x509_crl(&der)
            .map_err(|e| PkiError::Pem { path: path.into(), detail: e.to_string() })?;
        revoked.extend(crl.iter_revoked_certificates().map(|r| {
            (strip_leading_zeros(r.raw_serial()).to_vec(), r.revocation_date.to_datetime())
        }));
    }
    Ok(revoked)
}

/// A DER INTEGER's content without the sign byte, as rcgen takes a serial.
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}
