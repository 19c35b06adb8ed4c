//! The host-side client library: a typed, async connection to the agent over mTLS, and the
//! declarative manifest format with apply/diff logic.
//!
//! Everything host-side (dpuctl, tests, benches) connects through [`connect`], so TLS and role
//! handling exist once.

pub mod apply;
mod deadline;
pub mod manifest;
pub mod output;
pub mod paging;
pub mod switch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dpu_proto::dpu::nvmf::v1::nvmf_service_client::NvmfServiceClient;
use dpu_proto::dpu::switch::v1::switch_service_client::SwitchServiceClient;
use dpu_proto::dpu::system::v1::system_service_client::SystemServiceClient;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

pub use deadline::DeadlineChannel;

pub use dpu_proto;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("TLS set-up: {0}")]
    Tls(#[from] dpu_pki::PkiError),
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect { endpoint: String, reason: String },
}

/// Where the agent is and which identity to present.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `https://HOST:PORT`.
    pub endpoint: String,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub timeout: Duration,
}

/// A connection to the agent; cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    channel: Channel,
    /// How long a call may take, its reply's body included (`ConnectOptions::timeout`).
    timeout: Duration,
}

impl Client {
    /// A client over a channel made elsewhere (an in-process server, a test's), whose
    /// typed clients' calls end by `timeout` as `connect`'s do.
    pub fn over(channel: Channel, timeout: Duration) -> Self {
        Self { channel, timeout }
    }

    /// The bare channel: calls on it have no deadline of the client's.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The channel the typed clients use: every call ends by `ConnectOptions::timeout`.
    fn with_deadline(&self) -> DeadlineChannel {
        DeadlineChannel::new(self.channel.clone(), self.timeout)
    }

    pub fn system(&self) -> SystemServiceClient<DeadlineChannel> {
        SystemServiceClient::new(self.with_deadline())
    }

    /// The NVMe-oF API; a stats snapshot lists every controller's queues, so replies up to
    /// the same limit as the switch's are accepted.
    pub fn nvmf(&self) -> NvmfServiceClient<DeadlineChannel> {
        NvmfServiceClient::new(self.with_deadline()).max_decoding_message_size(LARGE_REPLY_LIMIT)
    }

    /// The switch API; pages of flows can be large, so replies up to the switch's own limit
    /// are accepted.
    pub fn switch(&self) -> SwitchServiceClient<DeadlineChannel> {
        SwitchServiceClient::new(self.with_deadline()).max_decoding_message_size(LARGE_REPLY_LIMIT)
    }
}

/// Largest reply accepted from the switch and nvmf APIs (a page of flows, a stats snapshot).
const LARGE_REPLY_LIMIT: usize = 16 * 1024 * 1024;

fn parse_endpoint(endpoint: &str) -> Result<(String, u16, ServerName<'static>), ClientError> {
    let bad = |reason: &str| ClientError::Endpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = endpoint.parse().map_err(|_| bad("not a URI; expected https://HOST:PORT"))?;
    if uri.scheme_str() != Some("https") {
        return Err(bad("the scheme must be https: the agent only speaks mTLS"));
    }
    let host = uri.host().ok_or_else(|| bad("no host"))?;
    let port = uri.port_u16().ok_or_else(|| bad("no port"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let name = ServerName::try_from(bare.clone())
        .map_err(|_| bad("host is not a valid DNS name or IP address"))?;
    Ok((bare, port, name))
}

/// Connects with mTLS; fails fast when the agent is unreachable or refuses the certificate.
pub async fn connect(options: &ConnectOptions) -> Result<Client, ClientError> {
    let (host, port, server_name) = parse_endpoint(&options.endpoint)?;
    let tls = Arc::new(dpu_pki::client_config(&options.ca, &options.cert, &options.key)?);
    let connector = TlsConnector::from(tls);
    // The URI only carries the :authority; the connector below does the TCP and TLS itself.
    let endpoint = Endpoint::from_shared(format!("http://{}", authority(&host, port)))
        .map_err(|e| ClientError::Endpoint {
            endpoint: options.endpoint.clone(),
            reason: e.to_string(),
        })?
        .connect_timeout(options.timeout)
        .timeout(options.timeout);
    let channel = endpoint
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let (connector, host, server_name) =
                (connector.clone(), host.clone(), server_name.clone());
            async move {
                let tcp = TcpStream::connect((host.as_str(), port)).await?;
                tcp.set_nodelay(true)?;
                let tls = connector.connect(server_name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| ClientError::Connect {
            endpoint: options.endpoint.clone(),
            reason: error_chain(&e),
        })?;
    Ok(Client::over(channel, options.timeout))
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// The error and its causes on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("https://192.168.100.2:50051").unwrap().0, "192.168.100.2");
        assert_eq!(parse_endpoint("https://[::1]:50051").unwrap().0, "::1");
        assert_eq!(parse_endpoint("https://localhost:1").unwrap().1, 1);
        for bad in ["http://a:1", "https://a", "nonsense", "", "https://:1"] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(authority("::1", 5), "[::1]:5");
    }
}
