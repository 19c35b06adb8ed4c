//! Assembles the agent from its configuration and runs it until shutdown.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_pki::ClientCa;
use dpu_proto::dpu::nvmf::v1::nvmf_service_server::NvmfServiceServer;
use dpu_proto::dpu::switch::v1::switch_service_server::SwitchServiceServer;
use dpu_proto::dpu::system::v1::SysctlSpec;
use dpu_proto::dpu::system::v1::system_service_server::SystemServiceServer;
use dpu_store::Store;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tonic::transport::Server;

use crate::api::nvmf::{NVMF_SERVICE, NvmfApi, NvmfReconciler, NvmfResources};
use crate::api::resource::Resources;
use crate::api::switch::{SWITCH_SERVICE, SwitchApi, SwitchReconciler, SwitchResources};
use crate::api::system::{SYSCTLS, SYSTEM_SERVICE, SysctlReconciler, SysctlStatuses, SystemApi};
use crate::config::Config;
use crate::gate::GateLayer;
use crate::metrics::Metrics;
use crate::services::{Reconciler, ServiceHandle, Services, supervise_process};
use crate::stream_limit::StreamLimit;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("opening the state store in {path}: {source}")]
    Store { path: String, source: dpu_store::StoreError },
    #[error("TLS set-up: {0}")]
    Tls(#[from] dpu_pki::PkiError),
    #[error("binding listener {name} on {address}: {source}{}", in_use_hint(source))]
    Bind { name: String, address: SocketAddr, source: std::io::Error },
    #[error("reflection set-up: {0}")]
    Reflection(String),
}

/// What to do about a port another process holds: most likely the nvmf service, which
/// runs on through the agent's restarts, serving a listener on it.
fn in_use_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        " (if an nvmf listener of the stored state serves on it, delete that listener or stop dpu-nvmf before starting the agent with this configuration)"
    } else {
        ""
    }
}

/// A running agent.
pub struct Agent {
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Bound addresses by listener name (useful when a config asks for port 0).
    pub listeners: Vec<(String, SocketAddr)>,
    pub metrics_address: Option<SocketAddr>,
    store: Store,
}

/// Largest request health and reflection take (their requests are a name or two):
/// reflection echoes a request twice in each reply, and the host role may call both.
const SMALL_SERVICE_REQUEST_BYTES: usize = 64 * 1024;
/// Largest reply health and reflection send (a file descriptor of ours is a few KiB).
const SMALL_SERVICE_RESPONSE_BYTES: usize = 1024 * 1024;

/// Backlog of a listener's accept queue: connections wait there while every handshake slot
/// is taken.
const LISTEN_BACKLOG: u32 = 1024;
/// Streams a client may make the server reset for its protocol errors before the
/// connection goes (h2's `max_local_error_reset_streams`; hyper's default).
const MAX_LOCAL_ERROR_RESETS: usize = 1024;

/// Binds listener `l`'s socket, to its interface first when it names one (so the socket
/// answers only connections arriving through it), with SO_REUSEADDR as `TcpListener::bind`.
fn bind_listener(l: &crate::config::Listener) -> std::io::Result<TcpListener> {
    let socket = match l.address {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    if let Some(interface) = &l.interface {
        socket.bind_device(Some(interface.as_bytes())).map_err(|e| {
            std::io::Error::new(e.kind(), format!("binding to interface {interface:?}: {e}"))
        })?;
    }
    socket.bind(l.address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The agent's own listening sockets, bound, with the addresses they took.
struct OwnSockets<'a> {
    listeners: Vec<(&'a crate::config::Listener, TcpListener, SocketAddr)>,
    metrics: Option<(TcpListener, SocketAddr)>,
}

impl OwnSockets<'_> {
    /// What each socket holds, named for messages: the addresses no nvmf listener may
    /// take.
    fn addresses(&self) -> Vec<(String, SocketAddr)> {
        let listeners =
            self.listeners.iter().map(|(l, _, a)| (format!("listener {:?}", l.name), *a));
        listeners
            .chain(self.metrics.iter().map(|(_, a)| ("metrics endpoint".to_owned(), *a)))
            .collect()
    }
}

/// Binds every `[[listeners]]` socket and the metrics endpoint's.
async fn bind_own_sockets(config: &Config) -> Result<OwnSockets<'_>, AgentError> {
    let mut listeners = Vec::new();
    for l in &config.listeners {
        let tcp = bind_listener(l).map_err(|source| AgentError::Bind {
            name: l.name.clone(),
            address: l.address,
            source,
        })?;
        let address = tcp.local_addr().unwrap_or(l.address);
        listeners.push((l, tcp, address));
    }
    let mut metrics = None;
    if let Some(m) = &config.metrics {
        let tcp = TcpListener::bind(m.address).await.map_err(|source| AgentError::Bind {
            name: "metrics".into(),
            address: m.address,
            source,
        })?;
        let address = tcp.local_addr().unwrap_or(m.address);
        metrics = Some((tcp, address));
    }
    Ok(OwnSockets { listeners, metrics })
}

/// Every full method path the agent serves, from the descriptor sets.
fn known_methods() -> HashSet<String> {
    let mut known = HashSet::new();
    for set in [dpu_proto::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
        let Ok(fds) = prost_types::FileDescriptorSet::decode(set) else { continue };
        for file in fds.file {
            for service in &file.service {
                for method in &service.method {
                    known.insert(format!(
                        "/{}.{}/{}",
                        file.package(),
                        service.name(),
                        method.name()
                    ));
                }
            }
        }
    }
    known.insert("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo".to_owned());
    known.insert("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo".to_owned());
    known
}

impl Agent {
    /// Opens the store, binds every listener, starts reconciliation, and returns once the agent
    /// serves.
    pub async fn start(config: Config) -> Result<Self, AgentError> {
        Self::start_opening(config, Store::open).await
    }

    /// [`start`](Self::start) with the store opened by `open` (e.g.
    /// [`Store::open_recounted`]).
    pub async fn start_opening(
        config: Config,
        open: fn(&std::path::Path) -> dpu_store::Result<Store>,
    ) -> Result<Self, AgentError> {
        let started = Instant::now();
        let state_dir = config.state_dir.clone();
        let store = tokio::task::spawn_blocking(move || open(&state_dir))
            .await
            .map_err(|e| AgentError::Store {
                path: config.state_dir.display().to_string(),
                source: dpu_store::StoreError::Task(e.to_string()),
            })?
            .map_err(|source| AgentError::Store {
                path: config.state_dir.display().to_string(),
                source,
            })?;
        tracing::info!(objects = store.len(), dir = %config.state_dir.display(), "state store opened");

        let client_cas: Vec<ClientCa> = config
            .tls
            .client_cas
            .iter()
            .map(|c| ClientCa { ca: c.ca.clone(), role: c.role })
            .collect();
        let (tls, roles) = dpu_pki::server_config(
            &config.tls.cert,
            &config.tls.key,
            &client_cas,
            &config.tls.crls,
        )?;
        let acceptor = TlsAcceptor::from(tls);

        // The agent's own sockets first, before any service is synced: an nvmf listener
        // stored on one of their addresses (before such listeners were refused, or before
        // the configuration moved there) then fails to bind in the service, which keeps
        // running through an agent restart, instead of taking the agent's port.
        let sockets = bind_own_sockets(&config).await?;
        let own_addresses = sockets.addresses();

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let metrics = Arc::new(Metrics::default());
        let sysctls = store.collection::<SysctlSpec>(SYSCTLS);
        let statuses = Arc::new(SysctlStatuses::default());

        let mut services = Services::default();
        // The reconciler never nudges; the API's copy (below) sees every handle.
        let nvmf = NvmfResources::open(&store, &services);
        let switch = SwitchResources::open(&store, &services);
        for svc in &config.services {
            let handle = ServiceHandle::new(&svc.name, dpu_runtime::unix::channel(&svc.socket));
            // No sync of this process has carried what the store holds yet (an agent before
            // it may have acknowledged a delete and crashed before syncing it).
            handle.desired_at(store.revision());
            let reconciler: Arc<dyn Reconciler> = match svc.name.as_str() {
                SYSTEM_SERVICE => Arc::new(SysctlReconciler {
                    sysctls: sysctls.clone(),
                    statuses: statuses.clone(),
                }),
                NVMF_SERVICE => Arc::new(NvmfReconciler { resources: nvmf.clone() }),
                SWITCH_SERVICE => Arc::new(SwitchReconciler { resources: switch.clone() }),
                // Config validation admits only known services.
                other => unreachable!("unknown service {other} passed validation"),
            };
            if let Some(command) = &svc.command {
                tasks.push(tokio::spawn(supervise_process(
                    svc.name.clone(),
                    command.clone(),
                    svc.socket.clone(),
                    handle.channel(),
                    shutdown_rx.clone(),
                )));
            }
            tasks.push(tokio::spawn(handle.clone().run(reconciler, shutdown_rx.clone())));
            services.handles.insert(svc.name.clone(), handle);
        }

        let system = Arc::new(SystemApi {
            store: store.clone(),
            sysctls: Resources::new(sysctls, statuses, services.clone(), SYSTEM_SERVICE),
            services: services.clone(),
            metrics: metrics.clone(),
            started,
            sync_limit: dpu_system::server::INTERNAL_MESSAGE_LIMIT,
        });
        let nvmf_api = Arc::new(NvmfApi {
            resources: nvmf.with_services(&services),
            services: services.clone(),
            agent_addresses: own_addresses,
        });
        let switch_api = Arc::new(SwitchApi {
            resources: switch.with_services(&services),
            services: services.clone(),
        });
        let (health_reporter, health) = tonic_health::server::health_reporter();
        report_health(&health_reporter, &services).await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dpu_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| AgentError::Reflection(e.to_string()))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dpu_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| AgentError::Reflection(e.to_string()))?;
        let known_methods = Arc::new(known_methods());

        let small_requests = config.max_request_bytes.min(SMALL_SERVICE_REQUEST_BYTES);
        let mut bound = Vec::new();
        for (l, tcp, address) in sockets.listeners {
            tracing::info!(listener = %l.name, %address, interface = ?l.interface, max_role = ?l.max_role, "listening (mTLS)");
            bound.push((l.name.clone(), address));
            let age = Duration::from_secs(l.max_connection_age_secs);
            let limits = crate::tls::Limits {
                connections: l.max_connections,
                per_address: l.connections_per_address(),
                lifetime: age + Duration::from_secs(l.max_connection_age_grace_secs),
            };
            let incoming = crate::tls::incoming(
                tcp,
                &l.name,
                acceptor.clone(),
                roles.clone(),
                l.max_role,
                limits,
            );
            let gate = GateLayer::new(
                metrics.clone(),
                known_methods.clone(),
                l.max_calls_in_flight,
                l.max_calls_per_address(),
            );
            let router = Server::builder()
                .timeout(Duration::from_secs(30))
                // Graceful (GOAWAY); the forced close after the grace is `Limits::lifetime`.
                .max_connection_age(age)
                .max_concurrent_streams(128)
                .http2_keepalive_interval(Some(Duration::from_secs(30)))
                .http2_keepalive_timeout(Some(Duration::from_secs(10)))
                // tonic leaves h2's guard off: a client whose frames make the server reset
                // stream after stream ("MadeYouReset", CVE-2025-8671) is sent away
                // (GOAWAY ENHANCE_YOUR_CALM) past this many, hyper's own default.
                .http2_max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESETS))
                .layer(gate)
                // Every service's requests are capped, health and reflection (which the host
                // role may call) too: tonic's default for them is its own 4 MiB.
                .add_service(
                    health
                        .clone()
                        .max_decoding_message_size(small_requests)
                        .max_encoding_message_size(SMALL_SERVICE_RESPONSE_BYTES),
                )
                .add_service(StreamLimit::new(
                    reflection_v1
                        .clone()
                        .max_decoding_message_size(small_requests)
                        .max_encoding_message_size(SMALL_SERVICE_RESPONSE_BYTES),
                    small_requests,
                ))
                .add_service(StreamLimit::new(
                    reflection_v1alpha
                        .clone()
                        .max_decoding_message_size(small_requests)
                        .max_encoding_message_size(SMALL_SERVICE_RESPONSE_BYTES),
                    small_requests,
                ))
                .add_service(
                    SystemServiceServer::from_arc(system.clone())
                        .max_decoding_message_size(config.max_request_bytes),
                )
                .add_service(
                    NvmfServiceServer::from_arc(nvmf_api.clone())
                        .max_decoding_message_size(config.max_request_bytes),
                )
                .add_service(
                    SwitchServiceServer::from_arc(switch_api.clone())
                        .max_decoding_message_size(config.max_request_bytes)
                        .max_encoding_message_size(dpu_switch::api::MESSAGE_LIMIT),
                );
            let mut stop = shutdown_rx.clone();
            let name = l.name.clone();
            tasks.push(tokio::spawn(async move {
                let signal = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
                    tracing::error!(listener = %name, error = %e, "listener failed");
                }
            }));
        }

        let metrics_address = sockets.metrics.as_ref().map(|(_, address)| *address);
        if let Some((tcp, _)) = sockets.metrics {
            tracing::info!(address = ?metrics_address, "Prometheus metrics endpoint (plain HTTP)");
            let (metrics, store, services) = (metrics.clone(), store.clone(), services.clone());
            let render: crate::metrics_http::Render = Arc::new(move || {
                let (metrics, store, services) = (metrics.clone(), store.clone(), services.clone());
                Box::pin(async move {
                    // Ask the nvmf service first, so the agent's series are as of the reply.
                    let nvmf = crate::metrics_nvmf::scrape(&services).await;
                    let mut text = agent_exposition(&metrics, &store, &services, started);
                    text.push_str(&crate::metrics_nvmf::render(nvmf.as_deref()));
                    text
                })
            });
            tasks.push(tokio::spawn(crate::metrics_http::serve(tcp, render, shutdown_rx.clone())));
        }

        Ok(Self { shutdown, tasks, listeners: bound, metrics_address, store })
    }

    /// Resolves once a flush of the state store failed, with why. The store then serves
    /// nothing (its memory may hold writes the disk does not): the agent should stop, so
    /// that it starts again (`Restart=always`) from what the disk holds.
    pub async fn store_failed(&self) -> String {
        self.store.failed().await
    }

    /// Stops accepting, lets in-flight calls finish, stops supervised services.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            if tokio::time::timeout(Duration::from_secs(10), task).await.is_err() {
                tracing::warn!("a task did not stop within 10 s");
            }
        }
    }
}

/// Tells grpc.health each public service's state: the nvmf and switch APIs are SERVING
/// when the agent's configuration has the service process behind them, NOT_SERVING
/// otherwise (their writes are refused; their reads answer only what an earlier
/// configuration stored). The system API and the server as a whole ("") are SERVING: the
/// agent itself answers the system API's health, inventory and metrics, so a probe of it
/// must not report the agent down when only its sysctl service is not configured (its
/// sysctl writes are refused all the same).
async fn report_health(reporter: &tonic_health::server::HealthReporter, services: &Services) {
    use tonic::server::NamedService;
    use tonic_health::ServingStatus;
    reporter
        .set_service_status(SystemServiceServer::<SystemApi>::NAME, ServingStatus::Serving)
        .await;
    let backed = [
        (NvmfServiceServer::<NvmfApi>::NAME, NVMF_SERVICE),
        (SwitchServiceServer::<SwitchApi>::NAME, SWITCH_SERVICE),
    ];
    for (api, process) in backed {
        let status = match services.get(process) {
            Some(_) => ServingStatus::Serving,
            None => ServingStatus::NotServing,
        };
        reporter.set_service_status(api, status).await;
    }
}

/// The agent's own series: requests, stored objects, uptime, each service's state.
fn agent_exposition(
    metrics: &Metrics,
    store: &Store,
    services: &Services,
    started: Instant,
) -> String {
    let per_service = |value: &dyn Fn(&ServiceHandle) -> f64| -> Vec<(String, f64)> {
        services
            .handles
            .iter()
            .map(|(n, h)| (crate::metrics::labels(&[("service", n)]), value(h)))
            .collect()
    };
    let mut out = metrics.render(&[
        (
            "dpud_stored_objects",
            "Objects in the desired-state store.",
            vec![(String::new(), store.len() as f64)],
        ),
        (
            "dpud_uptime_seconds",
            "Seconds since the agent started.",
            vec![(String::new(), started.elapsed().as_secs_f64())],
        ),
        (
            "dpud_service_up",
            "1 when the service answers and accepted the last sync (objects it left FAILED \
             show in their status, not here).",
            per_service(&|h| if h.state().serving { 1.0 } else { 0.0 }),
        ),
    ]);
    // Restarts only grow: a counter, so rate() and increase() apply (it was the gauge
    // `dpud_service_restarts` before; operations.md's upgrade notes say so).
    crate::metrics::family(
        &mut out,
        "dpud_service_restarts_total",
        "counter",
        "New service instances seen after the first.",
        services
            .handles
            .iter()
            .map(|(n, h)| (crate::metrics::labels(&[("service", n)]), h.state().restarts)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port another process holds names the likely holder and what to do.
    #[test]
    fn a_port_in_use_says_what_to_do() {
        let bind = |kind| AgentError::Bind {
            name: "operator".into(),
            address: "127.0.0.1:50052".parse().unwrap(),
            source: std::io::Error::from(kind),
        };
        let in_use = bind(std::io::ErrorKind::AddrInUse).to_string();
        assert!(in_use.contains("delete that listener or stop dpu-nvmf"), "{in_use}");
        let other = bind(std::io::ErrorKind::PermissionDenied).to_string();
        assert!(!other.contains("dpu-nvmf"), "{other}");
    }

    /// The agent's series have the types their values call for: a service's restarts only
    /// grow, so they are a counter named `_total` (rate() and increase() treat a counter's
    /// reset as a restart of the agent), its state a gauge.
    #[tokio::test]
    async fn agent_series_are_typed_by_what_they_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        let mut services = Services::default();
        services.handles.insert("nvmf".into(), ServiceHandle::new("nvmf", channel));
        let text = agent_exposition(&Metrics::default(), &store, &services, Instant::now());
        assert!(text.contains("\n# TYPE dpud_service_restarts_total counter\n"), "{text}");
        assert!(text.contains("\ndpud_service_restarts_total{service=\"nvmf\"} 0\n"), "{text}");
        assert!(!text.contains("dpud_service_restarts "), "{text}");
        assert!(text.contains("\n# TYPE dpud_service_up gauge\n"), "{text}");
    }
}
