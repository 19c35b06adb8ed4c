use std::os::unix::fs::PermissionsExt;

use super::*;

fn pki() -> (tempfile::TempDir, DevPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = init_dev_pki(dir.path(), &dev::default_server_sans()).unwrap();
    (dir, pki)
}

fn cas(pki: &DevPki) -> Vec<ClientCa> {
    vec![
        ClientCa { ca: pki.path("host-ca.crt"), role: Role::Host },
        ClientCa { ca: pki.path("operator-ca.crt"), role: Role::Operator },
    ]
}

#[test]
fn keys_are_private() {
    let (_d, pki) = pki();
    for key in ["ca.key", "server.key", "host.key", "operator.key", "host-ca.key"] {
        let mode = std::fs::metadata(pki.path(key)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
}

/// Run again over a PKI whose keys someone made readable, the new keys are private all the
/// same; a symlink where a key goes is refused, not followed.
#[test]
fn keys_written_over_existing_files_are_private_and_symlinks_refused() {
    let (d, pki) = pki();
    for key in ["server.key", "operator-ca.key"] {
        std::fs::set_permissions(pki.path(key), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    init_dev_pki(d.path(), &dev::default_server_sans()).unwrap();
    for key in ["server.key", "operator-ca.key"] {
        let mode = std::fs::metadata(pki.path(key)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    let elsewhere = d.path().join("elsewhere");
    std::fs::write(&elsewhere, "not a key").unwrap();
    std::fs::remove_file(pki.path("ca.key")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, pki.path("ca.key")).unwrap();
    let err = init_dev_pki(d.path(), &dev::default_server_sans()).unwrap_err();
    assert!(err.to_string().contains("ca.key"), "{err}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not a key");
}

/// A private key other users may read is refused, naming it, by the agent (its server
/// key), a client (its key) and `certs revoke` (a CA's key); its owner and group may.
#[test]
fn keys_other_users_may_access_are_refused() {
    let (d, pki) = pki();
    let chmod = |key: &str, mode| {
        std::fs::set_permissions(pki.path(key), std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let server =
        || server_config(&pki.path("server.crt"), &pki.path("server.key"), &cas(&pki), &[]);
    let client =
        || client_config(&pki.path("ca.crt"), &pki.path("host.crt"), &pki.path("host.key"));
    for mode in [0o644, 0o604, 0o601] {
        chmod("server.key", mode);
        let err = server().map(drop).unwrap_err().to_string();
        assert!(err.contains("server.key") && err.contains(&format!("mode {mode:04o}")), "{err}");
    }
    chmod("server.key", 0o640);
    server().unwrap();
    chmod("host.key", 0o644);
    let err = client().map(drop).unwrap_err().to_string();
    assert!(err.contains("host.key") && err.contains("chmod o-rwx"), "{err}");
    chmod("host.key", 0o600);
    client().unwrap();
    chmod("host-ca.key", 0o644);
    let err = revoke(d.path(), &pki.path("host.crt")).unwrap_err().to_string();
    assert!(err.contains("host-ca.key"), "{err}");
    assert!(!d.path().join("host-ca.crl").exists());
}

#[test]
fn roles_follow_the_issuing_ca() {
    let (_d, pki) = pki();
    let (_config, mapper) =
        server_config(&pki.path("server.crt"), &pki.path("server.key"), &cas(&pki), &[]).unwrap();
    let host = load_certs(&pki.path("host.crt")).unwrap();
    let operator = load_certs(&pki.path("operator.crt")).unwrap();
    let server = load_certs(&pki.path("server.crt")).unwrap();
    assert_eq!(mapper.role_of(&host), Some(Role::Host));
    assert_eq!(mapper.role_of(&operator), Some(Role::Operator));
    // A certificate from another CA, even a valid one, has no role.
    assert_eq!(mapper.role_of(&server), None);
    assert_eq!(mapper.role_of(&[]), None);
}

/// A revoked client certificate has no role (and fails the handshake: the same verifiers);
/// the other CA's certificates, whose CA has no CRL, are not affected.
#[test]
fn revoked_certificates_have_no_role() {
    let (d, pki) = pki();
    let crl = revoke(d.path(), &pki.path("host.crt")).unwrap();
    assert_eq!(crl, pki.path("host-ca.crl"));
    let text = std::fs::read_to_string(&crl).unwrap();
    assert!(text.starts_with("-----BEGIN X509 CRL-----"), "{text}");
    let (_config, mapper) = server_config(
        &pki.path("server.crt"),
        &pki.path("server.key"),
        &cas(&pki),
        std::slice::from_ref(&crl),
    )
    .unwrap();
    assert_eq!(mapper.role_of(&load_certs(&pki.path("host.crt")).unwrap()), None);
    let operator = load_certs(&pki.path("operator.crt")).unwrap();
    assert_eq!(mapper.role_of(&operator), Some(Role::Operator));
    // Twice changes nothing; a certificate of neither client CA cannot be revoked here.
    revoke(d.path(), &pki.path("host.crt")).unwrap();
    assert_eq!(std::fs::read_to_string(&crl).unwrap(), text);
    let err = revoke(d.path(), &pki.path("server.crt")).unwrap_err();
    assert!(err.to_string().contains("not issued by"), "{err}");
    // A second revocation keeps the first.
    let op_crl = revoke(d.path(), &pki.path("operator.crt")).unwrap();
    let crls = [crl, op_crl];
    let (_config, mapper) =
        server_config(&pki.path("server.crt"), &pki.path("server.key"), &cas(&pki), &crls).unwrap();
    assert_eq!(mapper.role_of(&operator), None);
    // A file that is no CRL is named in the error.
    let junk = d.path().join("junk.crl");
    std::fs::write(&junk, "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n").unwrap();
    let err = server_config(&pki.path("server.crt"), &pki.path("server.key"), &cas(&pki), &[junk])
        .unwrap_err();
    assert!(err.to_string().contains("junk.crl"), "{err}");
}

/// A CRL of a CA that is not a client CA is refused, naming its issuer: webpki would look
/// it up for no client certificate, so revocation the operator believes in force would not
/// be. With its CA configured the same CRL is taken.
#[test]
fn a_crl_of_no_client_ca_is_refused() {
    let (d, pki) = pki();
    let operator_crl = revoke(d.path(), &pki.path("operator.crt")).unwrap();
    let host_only = [ClientCa { ca: pki.path("host-ca.crt"), role: Role::Host }];
    let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
    let err =
        server_config(&cert, &key, &host_only, std::slice::from_ref(&operator_crl)).unwrap_err();
    assert!(matches!(err, PkiError::CrlOfNoClientCa { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("operator-ca.crl"), "{text}");
    assert!(text.contains("CN=dpu dev operator client CA"), "{text}");
    // A file with a CRL of a client CA besides still names the stray one.
    let host_crl = revoke(d.path(), &pki.path("host.crt")).unwrap();
    let both = d.path().join("both.crl");
    let pems = [&host_crl, &operator_crl].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&both, pems.concat()).unwrap();
    let err = server_config(&cert, &key, &host_only, &[both]).unwrap_err();
    assert!(err.to_string().contains("CN=dpu dev operator client CA"), "{err}");
    server_config(&cert, &key, &cas(&pki), &[operator_crl, host_crl]).unwrap();
}

#[test]
fn a_ca_trusted_for_both_roles_yields_the_lower_one() {
    let (_d, pki) = pki();
    let both = vec![
        ClientCa { ca: pki.path("operator-ca.crt"), role: Role::Operator },
        ClientCa { ca: pki.path("operator-ca.crt"), role: Role::Host },
    ];
    let (_c, mapper) =
        server_config(&pki.path("server.crt"), &pki.path("server.key"), &both, &[]).unwrap();
    let operator = load_certs(&pki.path("operator.crt")).unwrap();
    assert_eq!(mapper.role_of(&operator), Some(Role::Host));
}

/// A FIFO at `dir/name` whose writer, once the first reader has it open, renames a copy
/// of `later` over the path, then gives that reader `first`: every later read gets `later`,
/// as if the file were replaced between two reads.
fn replaced_after_first_read(
    dir: &Path,
    name: &str,
    first: &Path,
    later: &Path,
) -> (PathBuf, std::thread::JoinHandle<()>) {
    let path = dir.join(name);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let first = std::fs::read(first).unwrap();
    let copy = dir.join(format!("{name}.later"));
    std::fs::copy(later, &copy).unwrap();
    let fifo_path = path.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        // Opening a FIFO to write returns once a reader has opened it.
        let mut fifo = std::fs::OpenOptions::new().write(true).open(&fifo_path).unwrap();
        std::fs::rename(&copy, &fifo_path).unwrap();
        fifo.write_all(&first).unwrap();
    });
    (path, writer)
}

/// A client CA file is read once: replaced while the agent reads its trust, the handshake's
/// verifier and the role mapper still hold the same CA; so does a file listed for two roles.
#[test]
fn a_client_ca_file_replaced_while_read_gives_one_view() {
    let (d, pki) = pki();
    let server = |cas: &[ClientCa]| {
        server_config(&pki.path("server.crt"), &pki.path("server.key"), cas, &[]).unwrap().1
    };
    let host = load_certs(&pki.path("host.crt")).unwrap();
    let operator = load_certs(&pki.path("operator.crt")).unwrap();
    let (host_ca, operator_ca) = (pki.path("host-ca.crt"), pki.path("operator-ca.crt"));

    let (swapped, writer) = replaced_after_first_read(d.path(), "one.crt", &host_ca, &operator_ca);
    let mapper = server(&[
        ClientCa { ca: swapped, role: Role::Host },
        ClientCa { ca: operator_ca.clone(), role: Role::Operator },
    ]);
    writer.join().unwrap();
    // Read again, the handshake would trust the host CA while the mapper gave its
    // certificates no role, and the operator's the host role.
    assert_eq!(mapper.role_of(&host), Some(Role::Host));
    assert_eq!(mapper.role_of(&operator), Some(Role::Operator));

    let (swapped, writer) = replaced_after_first_read(d.path(), "two.crt", &host_ca, &operator_ca);
    let mapper = server(&[
        ClientCa { ca: swapped.clone(), role: Role::Host },
        ClientCa { ca: swapped, role: Role::Operator },
    ]);
    writer.join().unwrap();
    // Read again for the operator role, the operator CA would have been trusted.
    assert_eq!(mapper.role_of(&host), Some(Role::Host));
    assert_eq!(mapper.role_of(&operator), None);
}

#[test]
fn no_client_ca_is_refused() {
    let (_d, pki) = pki();
    assert!(matches!(
        server_config(&pki.path("server.crt"), &pki.path("server.key"), &[], &[]),
        Err(PkiError::NoClientCa)
    ));
}

#[test]
fn bad_files_give_clear_errors() {
    let (dir, pki) = pki();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not pem at all").unwrap();
    assert!(matches!(load_certs(&junk), Err(PkiError::NoCertificate { .. })));
    assert!(load_key(&junk).is_err());
    assert!(matches!(load_certs(&dir.path().join("missing")), Err(PkiError::Read { .. })));
    assert!(
        client_config(&pki.path("ca.crt"), &pki.path("host.crt"), &pki.path("host.key")).is_ok()
    );
}

/// An in-memory TLS handshake of `client` with `server`: the first error the server (or
/// else the client) sees.
fn handshake(server: Arc<ServerConfig>, client: ClientConfig) -> Result<(), rustls::Error> {
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(client), name)?;
    let mut server = rustls::ServerConnection::new(server)?;
    for _ in 0..10 {
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        client.write_tls(&mut bytes).unwrap();
        server.read_tls(&mut bytes.as_slice()).unwrap();
        server.process_new_packets()?;
        bytes.clear();
        server.write_tls(&mut bytes).unwrap();
        client.read_tls(&mut bytes.as_slice()).unwrap();
        client.process_new_packets()?;
    }
    panic!("the handshake did not finish");
}

/// The development CA of `role`, to sign with.
fn dev_issuer(pki: &DevPki, role: &str) -> rcgen::Issuer<'static, rcgen::KeyPair> {
    let ca = load_certs(&pki.path(&format!("{role}-ca.crt"))).unwrap().remove(0);
    let key = std::fs::read_to_string(pki.path(&format!("{role}-ca.key"))).unwrap();
    rcgen::Issuer::from_ca_cert_der(&ca, rcgen::KeyPair::from_pem(&key).unwrap()).unwrap()
}

/// Another client certificate of the development CA of `role`, written to `DIR/NAME.crt`
/// and `.key`.
fn issue(pki: &DevPki, role: &str, name: &str) -> PathBuf {
    let issuer = dev_issuer(pki, role);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = dev::leaf_params(name, &[], false).unwrap().signed_by(&leaf_key, &issuer).unwrap();
    dev::write(&pki.path(&format!("{name}.key")), &leaf_key.serialize_pem(), true).unwrap();
    let path = pki.path(&format!("{name}.crt"));
    dev::write(&path, &leaf.pem(), false).unwrap();
    path
}

/// A client CA that issues a sub-CA that issues the client's certificate: the CA's CRL
/// revoking the sub-CA refuses the client (RFC 5280 §6.1.3 (a)(3): every certificate of
/// the path is checked), in the handshake and in the role.
#[test]
fn a_revoked_intermediate_ca_refuses_its_clients() {
    use rcgen::{BasicConstraints, CertifiedIssuer, IsCa, KeyPair};
    let (d, pki) = pki();
    let mut root = dev::ca_params("test root CA").unwrap();
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root = CertifiedIssuer::self_signed(root, KeyPair::generate().unwrap()).unwrap();
    let mut sub = dev::ca_params("test sub-CA").unwrap();
    sub.serial_number = Some(rcgen::SerialNumber::from(7u64));
    let sub = CertifiedIssuer::signed_by(sub, KeyPair::generate().unwrap(), &root).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = dev::leaf_params("leaf", &[], false).unwrap().signed_by(&leaf_key, &sub).unwrap();
    let path = |f: &str| d.path().join(f);
    std::fs::write(path("root.crt"), root.pem()).unwrap();
    std::fs::write(path("chain.crt"), leaf.pem() + &sub.pem()).unwrap();
    dev::write(&path("leaf.key"), &leaf_key.serialize_pem(), true).unwrap();
    let crl = crl_revoking(7);
    std::fs::write(path("root.crl"), crl.signed_by(&root).unwrap().pem().unwrap()).unwrap();

    let cas = [ClientCa { ca: path("root.crt"), role: Role::Host }];
    let server = |crls: &[PathBuf]| {
        server_config(&pki.path("server.crt"), &pki.path("server.key"), &cas, crls).unwrap()
    };
    let client = || client_config(&pki.path("ca.crt"), &path("chain.crt"), &path("leaf.key"));
    let chain = load_certs(&path("chain.crt")).unwrap();
    let (config, mapper) = server(&[]);
    assert_eq!(mapper.role_of(&chain), Some(Role::Host));
    handshake(config, client().unwrap()).unwrap();
    let (config, mapper) = server(&[path("root.crl")]);
    assert_eq!(mapper.role_of(&chain), None);
    let err = handshake(config, client().unwrap()).unwrap_err();
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)),
        "{err:?}"
    );
}

/// Two CRLs of one CA (two files, or two in one file): the handshake would consult only
/// the first, so a certificate only the other lists would be taken; the start is refused,
/// naming both files.
#[test]
fn two_crls_of_one_ca_are_refused() {
    let (d, pki) = pki();
    let other = issue(&pki, "host", "other");
    let crl = revoke(d.path(), &other).unwrap();
    let old = d.path().join("old.crl");
    std::fs::copy(&crl, &old).unwrap();
    revoke(d.path(), &pki.path("host.crt")).unwrap();
    let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
    for crls in [[old.clone(), crl.clone()], [crl.clone(), old.clone()]] {
        let err = server_config(&cert, &key, &cas(&pki), &crls).map(|c| c.1).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("old.crl") && text.contains("host-ca.crl"), "{text}");
        assert!(text.contains("CN=dpu dev host client CA"), "{text}");
    }
    let both = d.path().join("both.crl");
    let pems = [&old, &crl].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&both, pems.concat()).unwrap();
    let err = server_config(&cert, &key, &cas(&pki), &[both]).map(|c| c.1).unwrap_err();
    assert!(err.to_string().contains("both.crl"), "{err}");
    // The newest alone refuses both.
    let (_c, mapper) = server_config(&cert, &key, &cas(&pki), &[crl]).unwrap();
    assert_eq!(mapper.role_of(&load_certs(&pki.path("host.crt")).unwrap()), None);
    assert_eq!(mapper.role_of(&load_certs(&other).unwrap()), None);
    // A partitioned CRL: one per issuing distribution point is taken; two of one refused.
    let partition = |name: &str, uri: &str| {
        let now = time::OffsetDateTime::now_utc();
        let crl = rcgen::CertificateRevocationListParams {
            this_update: now,
            next_update: now + time::Duration::days(1),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: Some(rcgen::CrlIssuingDistributionPoint {
                distribution_point: rcgen::CrlDistributionPoint { uris: vec![uri.into()] },
                scope: None,
            }),
            revoked_certs: Vec::new(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        let path = d.path().join(name);
        let pem = crl.signed_by(&dev_issuer(&pki, "host")).unwrap().pem().unwrap();
        std::fs::write(&path, pem).unwrap();
        path
    };
    let (a, b) = (partition("a.crl", "http://crl/a"), partition("b.crl", "http://crl/b"));
    server_config(&cert, &key, &cas(&pki), &[a.clone(), b]).unwrap();
    let a2 = partition("a2.crl", "http://crl/a");
    let err = server_config(&cert, &key, &cas(&pki), &[a, a2]).map(|c| c.1).unwrap_err();
    assert!(matches!(err, PkiError::TwoCrlsOfOneCa { .. }), "{err:?}");
}

/// The development certificates are valid from a little before now (clocks differ) for a
/// year (leaves) or ten (CAs), not rcgen's 1975..4096.
#[test]
fn development_certificates_have_bounded_validity() {
    let (_d, pki) = pki();
    let now = time::OffsetDateTime::now_utc();
    for (file, days) in [
        ("ca.crt", 3650),
        ("host-ca.crt", 3650),
        ("operator-ca.crt", 3650),
        ("server.crt", 365),
        ("host.crt", 365),
        ("operator.crt", 365),
    ] {
        let der = load_certs(&pki.path(file)).unwrap().remove(0);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let validity = cert.validity();
        let (from, to) = (validity.not_before.to_datetime(), validity.not_after.to_datetime());
        assert!(from <= now && now - from <= time::Duration::days(2), "{file}: from {from}");
        let left = to - now;
        assert!(
            left > time::Duration::days(days - 1) && left <= time::Duration::days(days),
            "{file}: until {to}"
        );
    }
}

/// Revoking another certificate later keeps the first one's revocation date (RFC 5280
/// §5.3.1 revocationDate: when it was revoked, not when the list was last written).
#[test]
fn a_revocation_keeps_its_date() {
    let (d, pki) = pki();
    let other = issue(&pki, "host", "other");
    let first = time::OffsetDateTime::from_unix_timestamp(1_735_787_045).unwrap();
    let later = first + time::Duration::days(30);
    dev::revoke_at(d.path(), &other, first).unwrap();
    let crl = dev::revoke_at(d.path(), &pki.path("host.crt"), later).unwrap();
    let der = load_crls(&crl).unwrap().remove(0);
    let (_, parsed) = x509_parser::parse_x509_crl(&der).unwrap();
    let dates: Vec<_> =
        parsed.iter_revoked_certificates().map(|r| r.revocation_date.to_datetime()).collect();
    assert_eq!(dates, [first, later]);
    assert_eq!(parsed.last_update().to_datetime(), later);
}

/// `certs init` again makes new CAs: a CRL the earlier `revoke` wrote, signed by the old
/// key, would refuse every client of the new CA in the handshake. Init re-issues it, empty,
/// with the new key; a CRL another key signed is refused at start, naming it.
#[test]
fn init_again_reissues_its_crls_and_a_crl_of_another_key_is_refused() {
    let (d, pki) = pki();
    let crl = revoke(d.path(), &pki.path("host.crt")).unwrap();
    let stale = d.path().join("stale.crl");
    std::fs::copy(&crl, &stale).unwrap();
    init_dev_pki(d.path(), &dev::default_server_sans()).unwrap();
    assert!(!d.path().join("operator-ca.crl").exists());
    let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
    let (config, mapper) =
        server_config(&cert, &key, &cas(&pki), std::slice::from_ref(&crl)).unwrap();
    assert_eq!(mapper.role_of(&load_certs(&pki.path("host.crt")).unwrap()), Some(Role::Host));
    let client = client_config(&pki.path("ca.crt"), &pki.path("host.crt"), &pki.path("host.key"));
    handshake(config, client.unwrap()).unwrap();
    let err = server_config(&cert, &key, &cas(&pki), &[stale]).map(|c| c.1).unwrap_err();
    assert!(matches!(err, PkiError::CrlNotSignedByItsCa { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("stale.crl") && text.contains("CN=dpu dev host client CA"), "{text}");
}

/// The files of `testdata/sha1-crl` (see its README) copied to `DIR/sha1-crl`, the key 0600.
fn sha1_fixture(dir: &Path) -> impl Fn(&str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sha1-crl");
    let to = dir.join("sha1-crl");
    std::fs::create_dir(&to).unwrap();
    for f in ["ca.crt", "leaf.crt", "leaf.key", "sha1.crl", "sha256.crl"] {
        let text = std::fs::read_to_string(from.join(f)).unwrap();
        dev::write(&to.join(f), &text, f.ends_with(".key")).unwrap();
    }
    move |f: &str| to.join(f)
}

/// A CRL signed with SHA-1 RSA by its CA's key: x509-parser verifies it, but the ring
/// provider offers webpki no SHA-1 algorithm, so each handshake of a client of that CA would
/// fail (UnsupportedCrlSignatureAlgorithm): refused at start, naming the file. The same CA's
/// SHA-256 CRL is taken.
#[test]
fn a_crl_signed_with_an_algorithm_the_handshake_lacks_is_refused() {
    let (d, pki) = pki();
    let path = sha1_fixture(d.path());
    let ca = load_certs(&path("ca.crt")).unwrap();
    let leaf = load_certs(&path("leaf.crt")).unwrap().remove(0);
    // What the handshake does with each CRL.
    let handshake_verdict = |crl: &str| {
        verifier(roots(&ca).unwrap(), &load_crls(&path(crl)).unwrap())
            .unwrap()
            .verify_client_cert(&leaf, &[], UnixTime::now())
            .map(|_| ())
    };
    let err = handshake_verdict("sha1.crl").unwrap_err();
    assert!(matches!(err, rustls::Error::InvalidCertRevocationList(_)), "{err:?}");
    handshake_verdict("sha256.crl").unwrap();

    let cas = [ClientCa { ca: path("ca.crt"), role: Role::Host }];
    let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
    let err = server_config(&cert, &key, &cas, &[path("sha1.crl")]).map(|c| c.1).unwrap_err();
    assert!(matches!(err, PkiError::CrlNotSignedByItsCa { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("sha1.crl")
            && text.contains("sha1WithRSAEncryption is not one the agent verifies"),
        "{text}"
    );
    let (config, mapper) = server_config(&cert, &key, &cas, &[path("sha256.crl")]).unwrap();
    assert_eq!(mapper.role_of(std::slice::from_ref(&leaf)), Some(Role::Host));
    let client = client_config(&pki.path("ca.crt"), &path("leaf.crt"), &path("leaf.key"));
    handshake(config, client.unwrap()).unwrap();
}

/// A client CA whose keyUsage lacks cRLSign (RFC 5280 §4.2.1.3 forbids it to sign CRLs).
/// webpki checks an issuer's keyUsage for a CRL only when the issuer is a certificate of the
/// client's chain, not a trust anchor (rustls-webpki 0.103 verify_cert.rs: "Consider whether
/// to track TrustAnchor KU"); every CRL taken at start is of a client CA, a trust anchor.
/// So the handshake applies such a CRL, and the start takes it: refusing it would refuse
/// what the handshake accepts. Should webpki start checking it, this test fails, and the
/// start-up check must refuse it too.
#[test]
fn a_crl_of_a_client_ca_without_crl_sign_is_applied() {
    use rcgen::{CertifiedIssuer, KeyPair, KeyUsagePurpose};
    let (d, pki) = pki();
    std::fs::create_dir(d.path().join("no-crl-sign")).unwrap();
    let path = |f: &str| d.path().join("no-crl-sign").join(f);
    let mut params = dev::ca_params("test CA without cRLSign").unwrap();
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca = CertifiedIssuer::self_signed(params.clone(), &ca_key).unwrap();
    std::fs::write(path("ca.crt"), ca.pem()).unwrap();
    let mut leaves = Vec::new();
    for (serial, name) in [(5u64, "revoked"), (6, "kept")] {
        let key = KeyPair::generate().unwrap();
        let mut leaf = dev::leaf_params(name, &[], false).unwrap();
        leaf.serial_number = Some(rcgen::SerialNumber::from(serial));
        let leaf = leaf.signed_by(&key, &ca).unwrap();
        std::fs::write(path(&format!("{name}.crt")), leaf.pem()).unwrap();
        dev::write(&path(&format!("{name}.key")), &key.serialize_pem(), true).unwrap();
        leaves.push(leaf.der().clone());
    }
    // rcgen refuses to sign a CRL with an issuer lacking cRLSign: sign with the same name
    // and key, keyUsage unsaid.
    params.key_usages.clear();
    let signer = rcgen::Issuer::new(params, &ca_key);
    let crl = crl_revoking(5);
    std::fs::write(path("ca.crl"), crl.signed_by(&signer).unwrap().pem().unwrap()).unwrap();

    let cas = [ClientCa { ca: path("ca.crt"), role: Role::Host }];
    let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
    let (config, mapper) = server_config(&cert, &key, &cas, &[path("ca.crl")]).unwrap();
    assert_eq!(mapper.role_of(&leaves[..1]), None);
    assert_eq!(mapper.role_of(&leaves[1..]), Some(Role::Host));
    let client = |name: &str| {
        client_config(
            &pki.path("ca.crt"),
            &path(&format!("{name}.crt")),
            &path(&format!("{name}.key")),
        )
        .unwrap()
    };
    let err = handshake(config.clone(), client("revoked")).unwrap_err();
    assert!(
        matches!(err, rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)),
        "{err:?}"
    );
    handshake(config, client("kept")).unwrap();
}

/// A CRL, valid from now for a day, that revokes the certificate of `serial`.
fn crl_revoking(serial: u64) -> rcgen::CertificateRevocationListParams {
    let now = time::OffsetDateTime::now_utc();
    rcgen::CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(serial),
            revocation_time: now,
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
}
