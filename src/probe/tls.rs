//! TLS for `https://` targets: one rustls client configuration (ring for the cryptography)
//! shared by the probe client ([`super::http`]) and the load generator ([`super::load`]).
//!
//! A service's certificate must chain to a certificate authority this machine trusts (the
//! system's store, as curl and the browsers see it: `/etc/ssl/certs` and the like,
//! `SSL_CERT_FILE`, a CA installed with `mkcert -install`) or to one given with `--ca-cert
//! FILE`, and must name the host of the URL. Verification is never turned off: a certificate
//! that is not trusted is a finding that names the fix.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Which certificate authorities an https target's certificate may chain to: the system's plus
/// the `--ca-cert` files. The client configuration is built on first use (only a grading with
/// an https URL reads the system's store) and shared by clones.
#[derive(Clone, Default)]
pub struct Trust {
    extra: Arc<Vec<CertificateDer<'static>>>,
    /// The `--ca-cert` files, for messages.
    files: Arc<Vec<String>>,
    config: Arc<OnceLock<Built>>,
}

/// The configuration, and whether the system's store had any certificate authority.
#[derive(Clone)]
struct Built {
    config: Arc<rustls::ClientConfig>,
    system_roots: bool,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").field("ca_cert", &self.files).finish()
    }
}

impl Trust {
    /// Trusts the certificates of the `--ca-cert` files besides the system's.
    pub fn with_ca_certs(files: &[impl AsRef<Path>]) -> Result<Trust, String> {
        let mut extra = Vec::new();
        let mut names = Vec::new();
        for f in files {
            extra.extend(read_ca_cert(f.as_ref())?);
            names.push(f.as_ref().display().to_string());
        }
        Ok(Trust {
            extra: Arc::new(extra),
            files: Arc::new(names),
            config: Arc::default(),
        })
    }

    /// The client configuration for https (HTTP/1.1, no ALPN): the system's certificate
    /// authorities plus the `--ca-cert` ones. A machine without a system store trusts only the
    /// `--ca-cert` ones (and so, without any, no certificate: every https target is "not
    /// trusted" and the message says why).
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.built().config
    }

    fn built(&self) -> Built {
        self.config
            .get_or_init(|| {
                let provider = provider();
                let platform = rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra.iter().cloned(),
                    provider.clone(),
                );
                let builder = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions");
                let (config, system_roots) = match platform {
                    Ok(v) => (
                        builder
                            .dangerous()
                            .with_custom_certificate_verifier(Arc::new(v))
                            .with_no_client_auth(),
                        true,
                    ),
                    // No system store and no `--ca-cert` (the extra ones were checked when
                    // read): nothing is trusted.
                    Err(_) => {
                        let mut roots = rustls::RootCertStore::empty();
                        roots.add_parsable_certificates(self.extra.iter().cloned());
                        (builder.with_root_certificates(roots).with_no_client_auth(), false)
                    }
                };
                Built {
                    config: Arc::new(config),
                    system_roots,
                }
            })
            .clone()
    }

    /// What a TLS failure with `host` means, in the learner's terms, with the fix.
    pub fn explain(&self, e: &rustls::Error, host: &str) -> String {
        use rustls::CertificateError as C;
        let fix = "if the service uses a certificate from your own CA (mkcert, a self-signed one), \
                   pass that CA's certificate with `--ca-cert FILE` (PEM)";
        match e {
            rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
                let mut m = format!(
                    "the certificate of {host} is not trusted: it is not signed by a certificate authority \
                     this machine trusts"
                );
                if !self.files.is_empty() {
                    m.push_str(&format!(" (nor by the --ca-cert {})", self.files.join(", ")));
                }
                if !self.built().system_roots {
                    m.push_str(" (this machine has no system CA certificates)");
                }
                format!("{m}; {fix}")
            }
            rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => format!(
                "the certificate of {host} is not valid for the name `{host}` (it was issued for other names): \
                 probe the service by a name its certificate lists, or issue it one for `{host}`"
            ),
            rustls::Error::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                format!("the certificate of {host} has expired: issue a new one")
            }
            rustls::Error::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
                format!("the certificate of {host} is not valid yet (check the clock or its start date)")
            }
            rustls::Error::InvalidCertificate(other) => {
                format!("the certificate of {host} is not trusted ({other:?}); {fix}")
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
                "{host} did not answer in TLS: if the service serves plain HTTP, probe it with http:// instead \
                 of https://"
            ),
            other => format!("the TLS handshake with {host} failed: {other}"),
        }
    }
}

/// The TLS error at the bottom of an error's chain, if any (also inside an I/O error, where
/// tokio-rustls puts it).
pub fn tls_cause<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        if let Some(inner) = c.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(t) = tls_cause(inner) {
                return Some(t);
            }
        }
        cur = c.source();
    }
    None
}

/// ring: builds with a C compiler only (aws-lc-rs, rustls's default, takes a much longer C
/// build). rustls deprecates ring's provider for its lack of post-quantum key exchange, which
/// a grader probing local services does not need.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that trusts nothing, for reqwest clients that only speak plain http
/// (reqwest wants one even then; it is never used for a handshake).
pub fn plain_config() -> Arc<rustls::ClientConfig> {
    static PLAIN: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    PLAIN
        .get_or_init(|| {
            Arc::new(
                rustls::ClientConfig::builder_with_provider(provider())
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth(),
            )
        })
        .clone()
}

/// The certificates of a `--ca-cert` file (PEM), each checked to be usable as a certificate
/// authority.
pub fn read_ca_cert(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the CA certificate `{shown}`: {e}"))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("`{shown}` is not a readable PEM file: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "`{shown}` holds no certificate: --ca-cert wants a PEM file with a `-----BEGIN CERTIFICATE-----` block \
             (the CA's certificate, not its key)"
        ));
    }
    for (i, c) in certs.iter().enumerate() {
        rustls::RootCertStore::empty().add(c.clone()).map_err(|e| {
            format!(
                "certificate {} of `{shown}` cannot be used as a certificate authority: {e}",
                i + 1
            )
        })?;
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls").join(name)
    }

    #[test]
    fn reads_a_ca_certificate_and_names_the_file_when_it_cannot() {
        assert_eq!(read_ca_cert(&fixture("ca.pem")).unwrap().len(), 1);
        let e = read_ca_cert(&fixture("missing.pem")).unwrap_err();
        assert!(
            e.contains("cannot read the CA certificate") && e.contains("missing.pem"),
            "{e}"
        );
        let e = read_ca_cert(&fixture("server-key.pem")).unwrap_err();
        assert!(
            e.contains("server-key.pem") && e.contains("holds no certificate"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("grade-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = read_ca_cert(&bad).unwrap_err();
        assert!(
            e.contains("bad.pem") && e.contains("cannot be used as a certificate authority"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn explains_tls_failures_with_their_fix() {
        let t = Trust::default();
        let m = t.explain(
            &rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            "127.0.0.1",
        );
        assert!(m.contains("127.0.0.1 is not trusted") && m.contains("--ca-cert"), "{m}");
        let m = t.explain(
            &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            "127.0.0.1",
        );
        assert!(m.contains("http://"), "{m}");
    }
}
