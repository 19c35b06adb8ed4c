//! The agent's configuration file (TOML).
//!
//! Parsing is strict: unknown keys, duplicate names and unusable values are errors that name the
//! offending key, so a typo never silently falls back to a default. Relative paths are taken
//! relative to the file's directory.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use dpu_pki::Role;
use dpu_runtime::ifname::{MAX_INTERFACE_NAME, is_interface_name};
use dpu_runtime::logging::LogFormat;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Syntax(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), message: message.into() }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the sled store lives.
    pub state_dir: PathBuf,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default = "default_log_level")]
    pub log_level: String,
    pub listeners: Vec<Listener>,
    pub tls: Tls,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub services: Vec<Service>,
    /// Largest accepted request message; larger ones are refused before decoding.
    #[serde(default = "default_max_request_bytes")]
    pub max_request_bytes: usize,
}

fn default_log_level() -> String {
    "info".to_owned()
}

fn default_max_request_bytes() -> usize {
    4 * 1024 * 1024
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    /// Caps the role of every client on this listener (the host-facing listener on a card
    /// sets "host", so even an operator certificate cannot change policy from the host side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_role: Option<Role>,
    /// Binds the listener to this network interface (SO_BINDTODEVICE): it then answers only
    /// connections that arrive through it, whatever `address` says (`0.0.0.0` on the
    /// management port `oob_net0` is not reachable from the host over tmfifo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Connections held at once, in the TLS handshake or authenticated; more are closed as
    /// they arrive. Each listener has its own, so clients of one cannot lock out another's.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections held at once from one IP address (of `max_connections`); when unset,
    /// `Listener::connections_per_address` derives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections_per_address: Option<usize>,
    /// Calls in flight at once over the listener's connections, from the request's headers
    /// until its response is sent; more are refused with RESOURCE_EXHAUSTED at once (each
    /// may hold up to `max_request_bytes` and its response).
    #[serde(default = "default_max_calls_in_flight")]
    pub max_calls_in_flight: usize,
    /// Calls in flight at once from one IP address (of `max_calls_in_flight`); when unset,
    /// `Listener::max_calls_per_address` derives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_calls_in_flight_per_address: Option<usize>,
    /// Seconds after which a connection is asked to close (HTTP/2 GOAWAY, as gRPC's
    /// MAX_CONNECTION_AGE): no new calls, those in flight go on.
    #[serde(default = "default_max_connection_age_secs")]
    pub max_connection_age_secs: u64,
    /// Seconds the calls in flight then have before the connection is closed (gRPC's
    /// MAX_CONNECTION_AGE_GRACE): a client that never reads its responses holds them no
    /// longer.
    #[serde(default = "default_max_connection_age_grace_secs")]
    pub max_connection_age_grace_secs: u64,
}

fn default_max_connections() -> usize {
    1024
}

/// Without `max_connections_per_address`, one address may hold this many connections, or
/// all of a smaller `max_connections`.
const CONNECTIONS_PER_ADDRESS: usize = 128;

fn default_max_calls_in_flight() -> usize {
    256
}

/// Without `max_calls_in_flight_per_address`, one address may hold this fraction (1/N) of a
/// listener's calls in flight: a client that stalls its calls (never reads the responses,
/// which hold their places until the connection's age and grace are over) then locks out
/// only itself, while one busy client still gets many calls through.
const CALLS_IN_FLIGHT_SHARES: usize = 4;

fn default_max_connection_age_secs() -> u64 {
    30 * 60
}

fn default_max_connection_age_grace_secs() -> u64 {
    60
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_cas: Vec<ClientCa>,
    /// CRL files (PEM) of the client CAs: a client certificate one lists is refused in the
    /// handshake. Read at start, which fails on a CRL of another issuer, on two CRLs of one
    /// CA, and on a CRL the CA's key did not sign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crls: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCa {
    pub ca: PathBuf,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Plain-HTTP Prometheus endpoint; bind it on the management side only.
    pub address: SocketAddr,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    /// The service's internal gRPC API.
    pub socket: PathBuf,
    /// When set, the agent starts the process and restarts it when it exits (development and
    /// the lab); on a card systemd does that and the agent only waits for the socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
}

impl Listener {
    pub fn new(name: &str, address: SocketAddr) -> Self {
        Self {
            name: name.to_owned(),
            address,
            max_role: None,
            interface: None,
            max_connections: default_max_connections(),
            max_connections_per_address: None,
            max_calls_in_flight: default_max_calls_in_flight(),
            max_calls_in_flight_per_address: None,
            max_connection_age_secs: default_max_connection_age_secs(),
            max_connection_age_grace_secs: default_max_connection_age_grace_secs(),
        }
    }

    /// Connections held at once from one IP address: `max_connections_per_address`, else
    /// `CONNECTIONS_PER_ADDRESS` or `max_connections` if that is smaller (a listener that
    /// sets only a small `max_connections` is not refused for a default it did not set).
    pub fn connections_per_address(&self) -> usize {
        self.max_connections_per_address
            .unwrap_or(CONNECTIONS_PER_ADDRESS.min(self.max_connections))
    }

    /// Calls in flight at once from one IP address: `max_calls_in_flight_per_address`, else
    /// a `CALLS_IN_FLIGHT_SHARES`th of `max_calls_in_flight` (at least one).
    pub fn max_calls_per_address(&self) -> usize {
        self.max_calls_in_flight_per_address
            .unwrap_or((self.max_calls_in_flight / CALLS_IN_FLIGHT_SHARES).max(1))
    }

    /// The same listener with every client capped at `role`.
    pub fn capped_at(self, role: Role) -> Self {
        Self { max_role: Some(role), ..self }
    }
}

impl Service {
    /// A service the agent starts and restarts itself: `command` followed by
    /// `--socket <socket>` and `extra_args`.
    pub fn supervised(name: &str, program: &Path, socket: &Path, extra_args: &[&str]) -> Self {
        let mut command = vec![
            program.display().to_string(),
            "--socket".to_owned(),
            socket.display().to_string(),
        ];
        command.extend(extra_args.iter().map(|a| (*a).to_owned()));
        Self { name: name.to_owned(), socket: socket.to_owned(), command: Some(command) }
    }
}

/// Services the agent knows how to drive.
pub const KNOWN_SERVICES: &[&str] = &["system", "nvmf", "switch"];

impl Config {
    /// A development configuration in the layout `dpuctl certs init` writes (`certs/server.*`,
    /// `certs/host-ca.crt` for the host role, `certs/operator-ca.crt` for the operator), state
    /// in `state/`, relative to the file. Tests, the demo and the benches render their
    /// dpud.toml from this ([`to_toml`](Self::to_toml)) rather than each writing the text.
    pub fn development(listeners: Vec<Listener>, services: Vec<Service>) -> Self {
        let ca = |file: &str, role| ClientCa { ca: PathBuf::from("certs").join(file), role };
        Self {
            state_dir: PathBuf::from("state"),
            log_format: LogFormat::default(),
            log_level: default_log_level(),
            listeners,
            tls: Tls {
                cert: PathBuf::from("certs/server.crt"),
                key: PathBuf::from("certs/server.key"),
                client_cas: vec![
                    ca("host-ca.crt", Role::Host),
                    ca("operator-ca.crt", Role::Operator),
                ],
                crls: Vec::new(),
            },
            metrics: None,
            services,
            max_request_bytes: default_max_request_bytes(),
        }
    }

    /// The configuration as the TOML text [`parse`](Self::parse) reads back.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::Syntax(e.to_string()))
    }

    /// Parses and validates a configuration text. Paths stay as written.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates `path`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let mut config = Self::parse(&text)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        resolve(&mut self.state_dir);
        resolve(&mut self.tls.cert);
        resolve(&mut self.tls.key);
        for ca in &mut self.tls.client_cas {
            resolve(&mut ca.ca);
        }
        for crl in &mut self.tls.crls {
            resolve(crl);
        }
        for service in &mut self.services {
            resolve(&mut service.socket);
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.state_dir.as_os_str().is_empty() {
            return Err(invalid("state_dir", "must not be empty"));
        }
        if self.listeners.is_empty() {
            return Err(invalid("listeners", "at least one listener is required"));
        }
        let mut names = HashSet::new();
        let mut addresses = HashSet::new();
        for (i, l) in self.listeners.iter().enumerate() {
            if l.name.is_empty() {
                return Err(invalid(format!("listeners[{i}].name"), "must not be empty"));
            }
            if !names.insert(&l.name) {
                return Err(invalid(
                    format!("listeners[{i}].name"),
                    format!("duplicate listener {:?}", l.name),
                ));
            }
            if !addresses.insert(l.address) {
                return Err(invalid(
                    format!("listeners[{i}].address"),
                    format!("{} is used twice", l.address),
                ));
            }
            if let Some(name) = &l.interface
                && !is_interface_name(name)
            {
                return Err(invalid(
                    format!("listeners[{i}].interface"),
                    format!(
                        "{name:?} is not an interface name (1 to {MAX_INTERFACE_NAME} \
                         printable characters, no '/' or ':')"
                    ),
                ));
            }
            if !(1..=65_536).contains(&l.max_connections) {
                return Err(invalid(
                    format!("listeners[{i}].max_connections"),
                    "must be between 1 and 65536",
                ));
            }
            if !(1..=l.max_connections).contains(&l.connections_per_address()) {
                return Err(invalid(
                    format!("listeners[{i}].max_connections_per_address"),
                    "must be between 1 and max_connections",
                ));
            }
            if !(1..=65_536).contains(&l.max_calls_in_flight) {
                return Err(invalid(
                    format!("listeners[{i}].max_calls_in_flight"),
                    "must be between 1 and 65536",
                ));
            }
            if !(1..=l.max_calls_in_flight).contains(&l.max_calls_per_address()) {
                return Err(invalid(
                    format!("listeners[{i}].max_calls_in_flight_per_address"),
                    "must be between 1 and max_calls_in_flight",
                ));
            }
            if !(1..=365 * 24 * 3600).contains(&l.max_connection_age_secs) {
                return Err(invalid(
                    format!("listeners[{i}].max_connection_age_secs"),
                    "must be between 1 and 31536000 (a year)",
                ));
            }
            if !(1..=3600).contains(&l.max_connection_age_grace_secs) {
                return Err(invalid(
                    format!("listeners[{i}].max_connection_age_grace_secs"),
                    "must be between 1 and 3600",
                ));
            }
        }
        if self.tls.client_cas.is_empty() {
            return Err(invalid(
                "tls.client_cas",
                "at least one client CA is required: every listener uses mTLS",
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_request_bytes) {
            return Err(invalid("max_request_bytes", "must be between 1 KiB and 64 MiB"));
        }
        let mut services = HashSet::new();
        for (i, s) in self.services.iter().enumerate() {
            if !KNOWN_SERVICES.contains(&s.name.as_str()) {
                return Err(invalid(
                    format!("services[{i}].name"),
                    format!("unknown service {:?}; known: {}", s.name, KNOWN_SERVICES.join(", ")),
                ));
            }
            if !services.insert(&s.name) {
                return Err(invalid(
                    format!("services[{i}].name"),
                    format!("duplicate service {:?}", s.name),
                ));
            }
            if s.socket.as_os_str().is_empty() {
                return Err(invalid(format!("services[{i}].socket"), "must not be empty"));
            }
            if let Some(cmd) = &s.command
                && cmd.first().is_none_or(|program| program.is_empty())
            {
                return Err(invalid(format!("services[{i}].command"), "must name a program"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
state_dir = "state"
log_format = "json"
[[listeners]]
name = "host"
address = "192.168.100.2:50051"
max_role = "host"
[[listeners]]
name = "operator"
address = "127.0.0.1:50052"
[tls]
cert = "certs/server.crt"
key = "/abs/server.key"
[[tls.client_cas]]
ca = "certs/host-ca.crt"
role = "host"
[[services]]
name = "system"
socket = "run/system.sock"
command = ["/usr/bin/dpu-system", "--socket", "/run/system.sock"]
"#;

    #[test]
    fn parses_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dpud.toml");
        std::fs::write(&path, GOOD).unwrap();
        let c = Config::load(&path).unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.listeners[0].max_role, Some(Role::Host));
        assert_eq!(c.state_dir, dir.path().join("state"));
        assert_eq!(c.tls.key, PathBuf::from("/abs/server.key"));
        assert_eq!(c.services[0].socket, dir.path().join("run/system.sock"));
        assert_eq!(c.max_request_bytes, 4 * 1024 * 1024);
        let with_nvmf =
            format!("{GOOD}[[services]]\nname = \"nvmf\"\nsocket = \"run/nvmf.sock\"\n");
        assert_eq!(Config::parse(&with_nvmf).unwrap().services[1].name, "nvmf");
    }

    #[test]
    fn development_config_round_trips() {
        let c = Config {
            log_level: "info,dpud=debug".into(),
            metrics: Some(Metrics { address: "127.0.0.1:9102".parse().unwrap() }),
            ..Config::development(
                vec![
                    Listener::new("host", "192.168.100.2:50051".parse().unwrap())
                        .capped_at(Role::Host),
                    Listener::new("operator", "127.0.0.1:50052".parse().unwrap()),
                ],
                vec![Service::supervised(
                    "system",
                    Path::new("/bin/dpu-system"),
                    Path::new("/run/system \"quoted\".sock"),
                    &["--sysctl-root", "/proc/sys"],
                )],
            )
        };
        let text = c.to_toml().unwrap();
        assert_eq!(Config::parse(&text).unwrap(), c, "{text}");
        assert!(text.contains(r#"max_role = "host""#), "{text}");
    }

    fn err(text: &str) -> String {
        Config::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn rejects_what_would_be_silently_wrong() {
        assert!(err(&GOOD.replace("log_format", "log_fromat")).contains("log_fromat"));
        assert!(err(&GOOD.replace(r#"role = "host""#, r#"role = "admin""#)).contains("admin"));
        assert!(
            err(&GOOD.replace("127.0.0.1:50052", "192.168.100.2:50051")).contains("used twice")
        );
        assert!(
            err(&GOOD.replace(r#"name = "system""#, r#"name = "sytsem""#))
                .contains("unknown service")
        );
        assert!(err(&GOOD.replace("127.0.0.1:50052", "not-an-address")).contains("address"));
        let operator = |extra: &str| {
            GOOD.replace(
                "address = \"127.0.0.1:50052\"",
                &format!("address = \"127.0.0.1:50052\"\n{extra}"),
            )
        };
        assert_eq!(
            Config::parse(&operator("interface = \"oob_net0\"")).unwrap().listeners[1].interface,
            Some("oob_net0".into())
        );
        for bad in ["\"\"", "\"../etc\"", "\"sixteen_chars_xx\"", "\"a b\""] {
            let text = operator(&format!("interface = {bad}"));
            assert!(err(&text).contains("listeners[1].interface"), "{bad}: {}", err(&text));
        }
        assert!(err(&operator("max_connections = 0")).contains("max_connections"));
        assert!(
            err(&operator("max_connections = 8\nmax_connections_per_address = 9"))
                .contains("listeners[1].max_connections_per_address")
        );
        // Unset, the per-address limit follows a smaller max_connections down (as the
        // calls' does), so a listener that sets only max_connections starts.
        let small = Config::parse(&operator("max_connections = 64")).unwrap();
        assert_eq!(small.listeners[1].connections_per_address(), 64);
        assert_eq!(
            Config::parse(&operator("")).unwrap().listeners[1].connections_per_address(),
            128
        );
        let calls_per_address = |extra: &str| {
            Config::parse(&operator(extra)).unwrap().listeners[1].max_calls_per_address()
        };
        assert_eq!(calls_per_address(""), 64, "a quarter of the default 256");
        assert_eq!(calls_per_address("max_calls_in_flight = 3"), 1, "at least one");
        assert_eq!(calls_per_address("max_calls_in_flight_per_address = 256"), 256);
        assert!(
            err(&operator("max_calls_in_flight = 8\nmax_calls_in_flight_per_address = 9"))
                .contains("listeners[1].max_calls_in_flight_per_address")
        );
        for bad in [
            "max_connections_per_address = 0",
            "max_calls_in_flight = 0",
            "max_calls_in_flight_per_address = 0",
            "max_connection_age_secs = 0",
            "max_connection_age_grace_secs = 0",
        ] {
            let key = bad.split(' ').next().unwrap_or_default();
            assert!(err(&operator(bad)).contains(&format!("listeners[1].{key}")), "{bad}");
        }
        assert!(err("").contains("missing field"));
        assert!(err("\0\u{ff} garbage [[[").len() > 5);
    }
}
