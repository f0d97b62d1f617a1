//! TLS: the certificate authorities a client trusts besides the built-in (Mozilla) roots
//! (`--ca-cert`: an API behind a company's own authority or a TLS-inspecting proxy), and what
//! a failed handshake says. A handshake that fails on the server's certificate fails its
//! request at once: trying again meets the same certificate.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, RootCertStore};

/// Certificates of authorities to trust, besides the built-in roots.
#[derive(Clone, Debug, Default)]
pub struct TrustedCerts {
    ders: Vec<CertificateDer<'static>>,
}

impl TrustedCerts {
    /// Adds every certificate of `pem` (a PEM file's contents) and returns how many. Fails,
    /// saying why, when it has none or one is not a valid X.509 certificate.
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<usize, String> {
        let mut added = Vec::new();
        for (i, der) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let der = der.map_err(|e| format!("certificate {} is not valid PEM: {e}", i + 1))?;
            RootCertStore::empty()
                .add(der.clone())
                .map_err(|e| format!("certificate {} is not valid: {e}", i + 1))?;
            added.push(der);
        }
        if added.is_empty() {
            return Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        let n = added.len();
        self.ders.extend(added);
        Ok(n)
    }

    /// These certificates and `other`'s.
    pub fn with(mut self, other: &TrustedCerts) -> TrustedCerts {
        self.ders.extend(other.ders.iter().cloned());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.ders.is_empty()
    }

    /// The certificates as reqwest takes them.
    pub(crate) fn certificates(&self) -> impl Iterator<Item = reqwest::Certificate> + '_ {
        // Parsed by `add_pem` already: `from_der` only wraps the bytes.
        self.ders
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
    }
}

/// The TLS error an I/O error stands for, if any: rustls's error sits inside I/O errors
/// (one for each layer that passed it on), which `source()` skips.
pub(crate) fn find(io: &std::io::Error) -> Option<&rustls::Error> {
    let mut inner: &(dyn std::error::Error + 'static) = io.get_ref()?;
    loop {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        inner = match inner.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref()?,
            None => inner.source()?,
        };
    }
}

/// What a failed handshake says: for a certificate, what is wrong with it and, when its
/// issuer is unknown, how to trust it.
pub(crate) fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "the server's certificate is not trusted: its issuer is unknown (--ca-cert FILE \
             or SSL_CERT_FILE trusts another certificate authority)"
                .into()
        }
        rustls::Error::InvalidCertificate(c) => {
            // rustls words the variants with context well, the plain ones as their names.
            let why = match c {
                CertificateError::Expired => "it has expired".into(),
                CertificateError::NotValidYet => "it is not valid yet".into(),
                CertificateError::NotValidForName => "it is not valid for the host's name".into(),
                CertificateError::Revoked => "it was revoked".into(),
                CertificateError::Other(other) => other.to_string(),
                c => c.to_string(),
            };
            format!("the server's certificate is not valid: {why}")
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_or_with_a_broken_one_is_refused() {
        let mut certs = TrustedCerts::default();
        assert_eq!(
            certs.add_pem(b"not a certificate\n"),
            Err("it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into())
        );
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = certs.add_pem(garbage).unwrap_err();
        assert!(err.starts_with("certificate 1 is not valid: "), "{err}");
        assert!(certs.is_empty());
    }

    #[test]
    fn an_unknown_issuer_says_how_to_trust_it() {
        let e = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(describe(&e).contains("--ca-cert FILE"), "{}", describe(&e));
        let e = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert_eq!(
            describe(&e),
            "the server's certificate is not valid: it has expired"
        );
    }
}
