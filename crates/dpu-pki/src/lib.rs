//! mTLS for the agent and its clients.
//!
//! Invariants:
//! - Every server config requires a client certificate that chains to one of the configured
//!   client CAs; a connection without one fails in the handshake.
//! - A role is derived only from which configured CA verified the client's chain; nothing the
//!   client merely claims (a subject name, an OU) grants a role.
//! - Only the ring crypto provider is used.

mod dev;
mod role;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};

pub use dev::{DevPki, default_server_sans, init_dev_pki, revoke};
pub use role::Role;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Users other than the owner and the group may access a private key: whoever reads it
    /// can impersonate the agent or the client.
    #[error(
        "{path}: a private key other users may access (mode {mode:04o}); \
         take their access away (chmod o-rwx), e.g. 0600"
    )]
    KeyOpenToOthers { path: PathBuf, mode: u32 },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: PathBuf },
    #[error("{path}: not a PEM certificate/key file: {detail}")]
    Pem { path: PathBuf, detail: String },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("client CA verifier: {0}")]
    Verifier(String),
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("no client CA configured: every listener requires mTLS")]
    NoClientCa,
    /// A CRL checks only certificates of its issuer: one of another CA would revoke nothing,
    /// while the operator believes it does.
    #[error(
        "{path}: a CRL issued by \"{issuer}\", which is none of the client CAs ({cas}): it \
         would revoke nothing; give the CRL of a client CA, or add its CA to client_cas"
    )]
    CrlOfNoClientCa { path: PathBuf, issuer: String, cas: String },
    /// webpki consults the first CRL of a certificate's issuer whose scope covers it: a
    /// certificate only a later one lists would be taken.
    #[error(
        "{files}: two CRLs of \"{issuer}\" for the same certificates: the handshake would \
         consult only the first, and accept a certificate only the other lists; keep one, \
         the newest"
    )]
    TwoCrlsOfOneCa { files: String, issuer: String },
    /// webpki checks a CRL's signature at each handshake of a client of its CA, and refuses
    /// the client when it fails: every client of that CA would be locked out.
    #[error(
        "{path}: a CRL of \"{issuer}\" whose signature the handshake would not accept with \
         the key of that client CA: {detail}; it would refuse every certificate of the CA. Is \
         it of an earlier CA of that name, or signed with SHA-1? Re-issue it with the CA's \
         key and SHA-256 or stronger, or take it out of crls"
    )]
    CrlNotSignedByItsCa { path: PathBuf, issuer: String, detail: String },
}

pub type Result<T, E = PkiError> = std::result::Result<T, E>;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every object of type `T` in a PEM file; `none` is the error when there is none.
fn load_pem_all<T: PemObject>(path: &Path, none: impl FnOnce() -> PkiError) -> Result<Vec<T>> {
    let bytes =
        std::fs::read(path).map_err(|source| PkiError::Read { path: path.into(), source })?;
    let all = T::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem { path: path.into(), detail: e.to_string() })?;
    if all.is_empty() {
        return Err(none());
    }
    Ok(all)
}

/// Reads every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    load_pem_all(path, || PkiError::NoCertificate { path: path.into() })
}

/// Reads a private key file, refused when users other than its owner and group may access
/// it (as ssh refuses an unprotected key). The mode is that of the open file, so it is the
/// file read.
fn read_key_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let read = |source| PkiError::Read { path: path.into(), source };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mode = file.metadata().map_err(read)?.permissions().mode() & 0o7777;
    if mode & 0o007 != 0 {
        return Err(PkiError::KeyOpenToOthers { path: path.into(), mode });
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(read)?;
    Ok(bytes)
}

/// Reads the first private key of a PEM file (see [`read_key_file`] on its mode).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = read_key_file(path)?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|e| PkiError::Pem { path: path.into(), detail: e.to_string() })
}

/// Reads every CRL of a PEM file (`-----BEGIN X509 CRL-----`).
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    load_pem_all(path, || PkiError::Pem { path: path.into(), detail: "no X509 CRL found".into() })
}

fn roots<'a>(
    certs: impl IntoIterator<Item = &'a CertificateDer<'static>>,
) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    for cert in certs {
        store.add(cert.clone())?;
    }
    Ok(store)
}

/// A verifier of client chains to `roots` that refuses a chain any certificate of which (the
/// leaf, or a sub-CA the client presents) a CRL of `crls` revokes: RFC 5280 §6.1.3 (a)(3)
/// checks every certificate of the path. A certificate whose issuer has no CRL here is not
/// refused for it (a CRL is optional per CA); the trust anchors themselves are not looked up.
fn verifier(
    roots: RootCertStore,
    crls: &[CertificateRevocationListDer<'static>],
) -> Result<Arc<dyn ClientCertVerifier>> {
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    if !crls.is_empty() {
        builder = builder.with_crls(crls.iter().cloned()).allow_unknown_revocation_status();
    }
    builder.build().map_err(|e| PkiError::Verifier(e.to_string()))
}

/// The client CAs' certificates, parsed: their subjects and keys judge the CRLs.
fn parse_client_cas<'a>(
    cas: &'a [LoadedCa<'_>],
) -> Result<Vec<x509_parser::certificate::X509Certificate<'a>>> {
    let mut parsed = Vec::new();
    for ca in cas {
        for der in &ca.certs {
            let (_, cert) = x509_parser::parse_x509_certificate(der)
                .map_err(|e| PkiError::Pem { path: ca.path.into(), detail: e.to_string() })?;
            parsed.push(cert);
        }
    }
    Ok(parsed)
}

/// What the start-up checks keep of a CRL: its file, its issuer, and its scope.
struct CrlScope<'a> {
    path: &'a Path,
    issuer: Vec<u8>,
    issuer_text: String,
    /// The issuing distribution point extension's DER (RFC 5280 §5.2.5); none: every
    /// certificate of the issuer.
    distribution_point: Option<Vec<u8>>,
}

/// Refuses a CRL whose issuer is none of the client CAs `cas`, or whose signature the key
/// of no CA of that name verifies as the handshake would ([`verify_as_handshake`]). webpki
/// looks a CRL up by the issuer name of the certificate it checks (RFC 5280 §6.3.3 (b)),
/// the same DER compared here, and takes a certificate without a CRL of its issuer as not
/// revoked
/// (`allow_unknown_revocation_status`): a CRL of another issuer would be ignored in silence.
/// It checks the signature only in the handshake (§6.3.3 (f)), where a CRL of another key
/// (an earlier CA of the same name) refuses every client of the CA: refused here instead.
fn check_crl_issuer<'a>(
    path: &'a Path,
    crl: &CertificateRevocationListDer<'_>,
    cas: &[x509_parser::certificate::X509Certificate<'_>],
) -> Result<CrlScope<'a>> {
    let (_, parsed) = x509_parser::parse_x509_crl(crl)
        .map_err(|e| PkiError::Pem { path: path.into(), detail: e.to_string() })?;
    let issuer = &parsed.tbs_cert_list.issuer;
    let of_issuer: Vec<_> =
        cas.iter().filter(|ca| ca.subject().as_raw() == issuer.as_raw()).collect();
    if of_issuer.is_empty() {
        let names: Vec<String> = cas.iter().map(|ca| ca.subject().to_string()).collect();
        return Err(PkiError::CrlOfNoClientCa {
            path: path.into(),
            issuer: issuer.to_string(),
            cas: names.join("; "),
        });
    }
    let mut verified = Err(String::new());
    for ca in of_issuer {
        verified = verify_as_handshake(crl, &parsed, ca.public_key());
        if verified.is_ok() {
            break;
        }
    }
    if let Err(detail) = verified {
        return Err(PkiError::CrlNotSignedByItsCa {
            path: path.into(),
            issuer: issuer.to_string(),
            detail,
        });
    }
    let idp = &x509_parser::oid_registry::OID_X509_EXT_ISSUER_DISTRIBUTION_POINT;
    Ok(CrlScope {
        path,
        issuer: issuer.as_raw().to_vec(),
        issuer_text: issuer.to_string(),
        distribution_point: parsed
            .extensions()
            .iter()
            .find(|e| e.oid == *idp)
            .map(|e| e.value.to_vec()),
    })
}

/// The contents of the `index`th element of the DER SEQUENCE `der`.
fn sequence_element(der: &[u8], index: usize) -> Option<&[u8]> {
    use x509_parser::asn1_rs::{Any, FromDer};
    let (_, seq) = Any::from_der(der).ok()?;
    let mut rest = seq.data;
    for _ in 0..index {
        rest = Any::from_der(rest).ok()?.0;
    }
    Some(Any::from_der(rest).ok()?.1.data)
}

/// Verifies the signature of `crl` (its DER `der`) with the key `spki` as webpki does in the
/// handshake (rustls-webpki 0.103 signed_data.rs `verify_signed_data`), with the algorithms
/// the same ring provider offers it: chosen by the exact DER of the CRL's signatureAlgorithm
/// (RFC 5280 §5.1.1.2) and of the key's algorithm. x509-parser's own check takes more (e.g.
/// SHA-1 RSA), which the handshake would then refuse for every client of the CA.
fn verify_as_handshake(
    der: &[u8],
    crl: &x509_parser::revocation_list::CertificateRevocationList<'_>,
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> Result<(), String> {
    let oid = &crl.signature_algorithm.algorithm;
    let name = x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map_or_else(|_| oid.to_id_string(), str::to_string);
    let malformed = || "malformed DER".to_string();
    let signature_alg = sequence_element(der, 1).ok_or_else(malformed)?;
    let key_alg = sequence_element(spki.raw, 0).ok_or_else(malformed)?;
    let algs = provider().signature_verification_algorithms.all;
    let of_signature: Vec<_> =
        algs.iter().filter(|a| a.signature_alg_id().as_ref() == signature_alg).collect();
    if of_signature.is_empty() {
        return Err(format!("its signature algorithm {name} is not one the agent verifies"));
    }
    let alg = of_signature
        .into_iter()
        .find(|a| a.public_key_alg_id().as_ref() == key_alg)
        .ok_or_else(|| format!("its signature algorithm {name} is not one for the CA's key"))?;
    let signature = &crl.signature_value.data;
    alg.verify_signature(&spki.subject_public_key.data, crl.tbs_cert_list.as_ref(), signature)
        .map_err(|_| format!("its {name} signature does not verify with the CA's key"))
}

/// Refuses two CRLs of one issuer whose scopes overlap: webpki consults the first that
/// covers a certificate, so one only the second lists would be accepted. Two CRLs of
/// different issuing distribution points (a partitioned CRL) are each for their own
/// certificates.
fn check_one_crl_per_scope(scopes: &[CrlScope<'_>]) -> Result<()> {
    for (i, a) in scopes.iter().enumerate() {
        for b in &scopes[i + 1..] {
            let overlap = match (&a.distribution_point, &b.distribution_point) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            if a.issuer == b.issuer && overlap {
                let files = if a.path == b.path {
                    a.path.display().to_string()
                } else {
                    format!("{} and {}", a.path.display(), b.path.display())
                };
                return Err(PkiError::TwoCrlsOfOneCa { files, issuer: a.issuer_text.clone() });
            }
        }
    }
    Ok(())
}

/// A trusted client CA and the role its certificates carry.
#[derive(Debug, Clone)]
pub struct ClientCa {
    pub ca: PathBuf,
    pub role: Role,
}

/// A client CA as read, once, from its file.
struct LoadedCa<'a> {
    path: &'a Path,
    role: Role,
    certs: Vec<CertificateDer<'static>>,
}

/// Reads every client CA's file once (a file listed twice, for two roles, too): the
/// handshake's verifier, the role mapper and the CRLs' issuer check all judge with these
/// certificates, even when a file is replaced while the agent starts.
fn load_client_cas(client_cas: &[ClientCa]) -> Result<Vec<LoadedCa<'_>>> {
    let mut loaded: Vec<LoadedCa<'_>> = Vec::new();
    for c in client_cas {
        let certs = match loaded.iter().find(|l| l.path == c.ca.as_path()) {
            Some(read) => read.certs.clone(),
            None => load_certs(&c.ca)?,
        };
        loaded.push(LoadedCa { path: &c.ca, role: c.role, certs });
    }
    Ok(loaded)
}

/// Maps a verified client chain to a role.
#[derive(Clone)]
pub struct RoleMapper {
    // Least-privileged role first, so a chain valid for several CAs gets the lowest role.
    by_role: Vec<(Role, Arc<dyn ClientCertVerifier>)>,
}

impl std::fmt::Debug for RoleMapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_role.iter().map(|(r, _)| r)).finish()
    }
}

impl RoleMapper {
    /// The role of a peer chain (leaf first), or `None` when no configured CA verifies it.
    pub fn role_of(&self, chain: &[CertificateDer<'_>]) -> Option<Role> {
        let (leaf, intermediates) = chain.split_first()?;
        let now = UnixTime::now();
        self.by_role
            .iter()
            .find(|(_, v)| v.verify_client_cert(leaf, intermediates, now).is_ok())
            .map(|(role, _)| *role)
    }
}

/// A server config that requires a client certificate from one of `client_cas`, and the mapper
/// that tells which role a verified client has.
///
/// A client certificate listed in one of the CRL files `crls` is refused in the handshake.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_cas: &[ClientCa],
    crls: &[PathBuf],
) -> Result<(Arc<ServerConfig>, RoleMapper)> {
    if client_cas.is_empty() {
        return Err(PkiError::NoClientCa);
    }
    let cas = load_client_cas(client_cas)?;
    let all_roots = roots(cas.iter().flat_map(|c| &c.certs))?;
    let parsed_cas = parse_client_cas(&cas)?;
    let mut revoked = Vec::new();
    let mut scopes = Vec::new();
    for path in crls {
        let list = load_crls(path)?;
        for crl in &list {
            scopes.push(check_crl_issuer(path, crl, &parsed_cas)?);
        }
        // Checked one file at a time, so a broken one is named.
        verifier(all_roots.clone(), &list)
            .map_err(|e| PkiError::Verifier(format!("{}: {e}", path.display())))?;
        revoked.extend(list);
    }
    check_one_crl_per_scope(&scopes)?;
    let mut by_role = Vec::new();
    for role in [Role::Host, Role::Operator] {
        let of_role: Vec<&LoadedCa<'_>> = cas.iter().filter(|c| c.role == role).collect();
        if !of_role.is_empty() {
            let certs = of_role.iter().flat_map(|c| &c.certs);
            by_role.push((role, verifier(roots(certs)?, &revoked)?));
        }
    }
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier(all_roots, &revoked)?)
        .with_single_cert(load_certs(cert)?, load_key(key)?)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok((Arc::new(config), RoleMapper { by_role }))
}

/// A client config that trusts `ca` for the server and presents `cert`/`key`.
pub fn client_config(ca: &Path, cert: &Path, key: &Path) -> Result<ClientConfig> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(&load_certs(ca)?)?)
        .with_client_auth_cert(load_certs(cert)?, load_key(key)?)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// A client config without a client certificate (to test that servers refuse it).
pub fn client_config_without_cert(ca: &Path) -> Result<ClientConfig> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots(&load_certs(ca)?)?)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests;
