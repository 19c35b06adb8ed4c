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
fn write(path: &Path, contents: &str, secret: bool) -> Result<()> {
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

fn ca_params(common_name: &str) -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "dpu-services development");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn leaf_params(common_name: &str, sans: &[String], server: bool) -> Result<CertificateParams> {
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
    Ok(params)
}

/// Writes a development PKI into `dir` (created if needed):
/// `ca.crt/key` (signs `server.crt/key`, whose SANs are `server_sans`), `host-ca.crt/key` (signs
/// `host.crt/key`) and `operator-ca.crt/key` (signs `operator.crt/key`). Keys are mode 0600.
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
