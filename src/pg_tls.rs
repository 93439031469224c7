//! Connecting to PostgreSQL (feature `postgres`), over TLS with rustls when the connection
//! string asks for it. Shared by the pgvector store and the session store.
//!
//! `sslmode` follows libpq: `disable` (plain TCP), `allow` / `prefer` (the default: TLS when
//! the server offers it, the certificate not checked), `require` (TLS or nothing; the
//! certificate is checked as for `verify-ca` when `sslrootcert` names a file, as libpq does),
//! `verify-ca` (the certificate must chain to a trusted root) and `verify-full` (and name the
//! host). Trusted roots: the PEM file `sslrootcert=PATH`, else the Mozilla roots of
//! `webpki-roots`. Both parameters are read from a URL's query (`?sslmode=verify-full&
//! sslrootcert=/etc/ca.pem`) or from a `key=value` string, then removed before the rest is
//! given to `tokio-postgres`.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// How long to wait for the server when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A connection string split into what tokio-postgres reads and what chatctx does.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) config: Config,
    pub(crate) mode: SslMode,
    pub(crate) root: Option<String>,
}

/// Parse a connection string (URL or `key=value` form). Errors never quote it.
pub(crate) fn parse(url: &str) -> Result<Target, String> {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: String| -> Result<bool, String> {
        match key {
            "sslmode" => {
                mode = Some(match value.as_str() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        ))
                    }
                });
                Ok(true)
            }
            "sslrootcert" => {
                root = Some(value);
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&') {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(&percent_decode(key), percent_decode(value))? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
            None => url.to_string(),
        }
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            let handled = match token.split_once('=') {
                Some((key, value)) if !value.starts_with('\'') => take(key, value.to_string())?,
                _ => false,
            };
            if !handled {
                kept.push(token);
            }
        }
        kept.join(" ")
    };
    let mut config: Config = rest.parse().map_err(|err: tokio_postgres::Error| {
        format!("invalid connection URL: {}", describe(&err))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let mode = match (mode.unwrap_or(SslMode::Prefer), &root) {
        (SslMode::Require, Some(_)) => SslMode::VerifyCa,
        (mode, _) => mode,
    };
    config.ssl_mode(match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
    });
    Ok(Target { config, mode, root })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte == b'%' && at + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).ok();
            if let Some(value) = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                out.push(value);
                at += 3;
                continue;
            }
        }
        out.push(byte);
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rustls configuration for `mode`.
fn client_config(mode: SslMode, root: Option<&str>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS setup: {err}"))?;
    if matches!(mode, SslMode::Prefer | SslMode::Require) {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier {
                chain: None,
                provider,
            }))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    match root {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|err| format!("sslrootcert {path}: {err}"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| format!("sslrootcert {path}: {err}"))?;
            if certificates.is_empty() {
                return Err(format!(
                    "sslrootcert {path}: no PEM certificate in the file"
                ));
            }
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|err| format!("sslrootcert {path}: {err}"))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|err| format!("TLS setup: {err}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if mode == SslMode::VerifyCa {
        Arc::new(Verifier {
            chain: Some(verifier),
            provider,
        })
    } else {
        verifier
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Connect; the connection runs on a task of the current tokio runtime. Errors never quote the
/// connection string.
pub(crate) async fn connect(target: &Target) -> Result<Client, String> {
    if target.mode == SslMode::Disable {
        let (client, connection) = target
            .config
            .connect(NoTls)
            .await
            .map_err(|err| format!("connect: {}", describe(&err)))?;
        tokio::spawn(async move {
            // Errors surface on the client's next call.
            let _ = connection.await;
        });
        return Ok(client);
    }
    let tls = MakeRustlsConnect::new(client_config(target.mode, target.root.as_deref())?);
    let (client, connection) = target
        .config
        .connect(tls)
        .await
        .map_err(|err| format!("connect: {}", describe(&err)))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// A description of the target without its password: `postgres://user@host:port/db`.
pub(crate) fn describe_target(config: &Config) -> String {
    use tokio_postgres::config::Host;
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    if user.is_empty() {
        format!("postgres://{host}:{port}/{db}")
    } else {
        format!("postgres://{user}@{host}:{port}/{db}")
    }
}

/// The error and its causes, one after the other.
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The certificate checks of `sslmode=prefer/require` and `verify-ca`, beyond rustls's own
/// (`verify-full`, which uses rustls's verifier as it is). Signatures of the handshake are
/// always verified, with the provider's algorithms.
#[derive(Debug)]
struct Verifier {
    /// `None` for `prefer`/`require`: encryption without checking who answers (as libpq
    /// does). `Some` for `verify-ca`: the chain must verify; the name is not checked.
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first, the name last: a name error means the chain is good.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_parameters_are_taken_out_of_urls() {
        let target =
            parse("postgres://u:pw@db.example:6543/app?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&application_name=x")
                .expect("parses");
        assert_eq!(target.mode, SslMode::VerifyFull);
        assert_eq!(target.root.as_deref(), Some("/tmp/ca.pem"));
        assert_eq!(target.config.get_application_name(), Some("x"));
        assert_eq!(target.config.get_ssl_mode(), PgSslMode::Require);
        assert_eq!(
            describe_target(&target.config),
            "postgres://u@db.example:6543/app"
        );

        let target = parse("postgres://u@h/db").expect("parses");
        assert_eq!(target.mode, SslMode::Prefer);
        let target =
            parse("postgres://u@h/db?sslmode=require&sslrootcert=/ca.pem").expect("parses");
        assert_eq!(
            target.mode,
            SslMode::VerifyCa,
            "libpq: require with a root file verifies"
        );
        let target = parse("host=/tmp user=postgres sslmode=disable").expect("parses");
        assert_eq!(target.mode, SslMode::Disable);
        assert_eq!(target.config.get_user(), Some("postgres"));

        let err = parse("postgres://u:secret@h/db?sslmode=bogus").expect_err("bad mode");
        assert!(err.contains("bogus") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("%2Fa%20b+c%zz%4"), "/a b+c%zz%4");
    }
}
