//! The emulator's https side: its certificate, the client certificates it may
//! demand, and an axum listener that does the TLS handshake.
//!
//! Handshakes run as tasks of their own, so a client that connects and says
//! nothing (or fails its handshake) neither stops nor holds up the others: a
//! failure is logged and the listener goes on accepting.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client has to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The emulator's TLS identity, as PEM text: with it the emulator serves https.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorTls {
    /// The server certificate, then any intermediates (`CERTIFICATE` blocks).
    pub cert_chain_pem: Vec<u8>,
    /// The server certificate's private key (PKCS#8, PKCS#1 or SEC1 PEM).
    pub key_pem: Vec<u8>,
    /// CA certificates (PEM) that issue client certificates. When set, every
    /// client must present a certificate issued by one of them: a handshake
    /// without one fails, as at an IIS site set to "Require" client certificates.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl EmulatorTls {
    /// Reads the PEM files: certificate chain, key and, optionally, the CA
    /// whose client certificates are required.
    pub fn from_pem_files(
        cert_chain: &Path,
        key: &Path,
        client_ca: Option<&Path>,
    ) -> io::Result<EmulatorTls> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
            })
        };
        Ok(EmulatorTls {
            cert_chain_pem: read(cert_chain)?,
            key_pem: read(key)?,
            client_ca_pem: client_ca.map(read).transpose()?,
        })
    }

    /// The rustls acceptor for this identity; an `InvalidInput` error in words
    /// for PEM that holds no certificate or key, or a key that does not fit.
    pub(super) fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = certificates(&self.cert_chain_pem, "the server certificate chain")?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| invalid(format!("the server key holds no usable private key: {e}")))?;
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(format!("TLS versions: {e}")))?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                for certificate in certificates(pem, "the client CA")? {
                    roots
                        .add(certificate)
                        .map_err(|e| invalid(format!("the client CA: {e}")))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&provider) as Arc<CryptoProvider>,
                )
                .build()
                .map_err(|e| invalid(format!("the client CA: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| invalid(format!("the server certificate and key: {e}")))?;
        // The emulator speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl fmt::Debug for EmulatorTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the private key.
        f.debug_struct("EmulatorTls")
            .field(
                "cert_chain_pem",
                &format_args!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &format_args!("<redacted>"))
            .field(
                "client_ca_pem",
                &self
                    .client_ca_pem
                    .as_ref()
                    .map(|pem| format!("{} bytes", pem.len())),
            )
            .finish()
    }
}

fn invalid(text: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, text)
}

fn certificates(pem: &[u8], what: &str) -> io::Result<Vec<CertificateDer<'static>>> {
    let list = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("{what} is not PEM: {e}")))?;
    if list.is_empty() {
        return Err(invalid(format!("{what} holds no CERTIFICATE block")));
    }
    Ok(list)
}

type Handshake = (io::Result<TlsStream<TcpStream>>, SocketAddr);

/// A TCP listener whose connections come out TLS-terminated.
pub(super) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
}

impl TlsListener {
    pub(super) fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> TlsListener {
        TlsListener {
            tcp,
            acceptor,
            handshakes: JoinSet::new(),
        }
    }

    fn start_handshake(&mut self, stream: TcpStream, peer: SocketAddr) {
        let acceptor = self.acceptor.clone();
        self.handshakes.spawn(async move {
            let result =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(result) => result,
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no TLS handshake within 10 s",
                    )),
                };
            (result, peer)
        });
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Both branches are cancel-safe: axum drops this future on shutdown.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) => self.start_handshake(stream, peer),
                    Err(error) => accept_failed(error).await,
                },
                Some(finished) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match finished {
                        Ok((Ok(stream), peer)) => return (stream, peer),
                        Ok((Err(error), peer)) => {
                            tracing::info!(%peer, %error, "CM emulator: TLS handshake failed");
                        }
                        Err(error) => {
                            tracing::warn!(%error, "CM emulator: TLS handshake task ended");
                        }
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// What axum's own TCP listener does: a failed connection is skipped, anything
/// else (out of file descriptors) is logged and waited out.
async fn accept_failed(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "CM emulator: accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// What a request knows of its TLS connection.
#[derive(Clone, Debug)]
pub(super) struct TlsPeer {
    /// True when the client presented a certificate (the verifier has checked it).
    pub(super) client_certificate: bool,
}

impl Connected<IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let (_, connection) = stream.io().get_ref();
        TlsPeer {
            client_certificate: connection
                .peer_certificates()
                .is_some_and(|chain| !chain.is_empty()),
        }
    }
}
