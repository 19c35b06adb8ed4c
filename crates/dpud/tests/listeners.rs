//! What the agent's listeners hold and who can reach them: connections past a listener's
//! limits are closed as they arrive, without touching another listener's clients; a
//! listener bound to an interface answers only connections that come through it (the
//! operator's, on the management port, is not reachable from the host over tmfifo); and a
//! revoked client certificate does not get through the handshake.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{Env, Who, in_dpu_namespace, wait_for, wait_for_up_to};
use dpu_lab::{Lab, LabOptions, Role};
use dpu_proto::dpu::system::v1::GetHealthRequest;
use dpu_proto::dpu::system::v1::system_service_client::SystemServiceClient;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::transport::Channel;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

/// A TCP connection from `from` (a loopback address) to `port` that sends nothing.
async fn silent(from: [u8; 4], port: u16) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(SocketAddr::from(([127, 0, 0, 1], port))).await.unwrap()
}

/// Whether the agent closed `stream` within a second (it sends nothing to a silent client
/// before its ClientHello, so any answer is the close).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the agent sent bytes before the ClientHello"),
        Err(_) => false,
    }
}

/// A reflection question reflection answers.
fn ask() -> ServerReflectionRequest {
    ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    }
}

/// A reflection call that stays in flight while the test holds its sender: it has asked
/// once and had its answer, and its request stream is still open.
struct OpenCall {
    asks: mpsc::Sender<ServerReflectionRequest>,
    replies: tonic::Streaming<ServerReflectionResponse>,
}

impl OpenCall {
    async fn start(channel: Channel) -> Result<OpenCall, tonic::Status> {
        let (asks, rx) = mpsc::channel(1);
        asks.send(ask()).await.unwrap();
        let mut replies = ServerReflectionClient::new(channel)
            .server_reflection_info(ReceiverStream::new(rx))
            .await?
            .into_inner();
        replies.message().await?.expect("an answer");
        Ok(OpenCall { asks, replies })
    }

    /// Asks again on the open call.
    async fn ask_again(&mut self) -> Result<(), tonic::Status> {
        self.asks.send(ask()).await.unwrap();
        self.replies.message().await?.expect("an answer");
        Ok(())
    }

    /// Ends the request stream; the call then ends with OK.
    async fn finish(self) {
        let OpenCall { asks, mut replies } = self;
        drop(asks);
        assert!(replies.message().await.unwrap().is_none(), "an answer nobody asked for");
    }
}

/// A listener lets `max_calls_in_flight` calls in at once; the next is refused at once
/// with RESOURCE_EXHAUSTED (not queued), the other listener's clients are not touched, and
/// once calls end others get in again.
#[tokio::test(flavor = "multi_thread")]
async fn calls_past_a_listeners_bound_in_flight_are_refused() {
    let mut env = Env::new();
    env.tweak_config(|c| {
        c.listeners[0].max_calls_in_flight = 3;
        // One address may take them all here: this is about the bound in all.
        c.listeners[0].max_calls_in_flight_per_address = Some(3);
    });
    env.start().await;
    let host = env.client(Who::Host).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(OpenCall::start(host.channel()).await.unwrap());
    }
    let e = host.system().get_health(GetHealthRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("too many calls in flight"), "{e:?}");
    let e = OpenCall::start(host.channel()).await.err().expect("a fourth call got in");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    // The calls in flight go on; another listener has places of its own.
    open[0].ask_again().await.unwrap();
    let op = env.client(Who::Operator).await;
    op.system().get_health(GetHealthRequest {}).await.unwrap();

    for call in open {
        call.finish().await;
    }
    // A call's place comes back once its response is sent, which the client may see first.
    wait_for("calls get in again", async || {
        host.system().get_health(GetHealthRequest {}).await.is_ok()
    })
    .await;
}

/// One address holds at most its share of a listener's calls in flight (a quarter of
/// `max_calls_in_flight` by default): its next calls are refused RESOURCE_EXHAUSTED while
/// another address's get through, so a client that stalls its calls locks out only itself.
/// Past the bound in all, every address is refused.
#[tokio::test(flavor = "multi_thread")]
async fn calls_past_an_addresss_share_in_flight_are_refused_and_others_get_in() {
    let mut env = Env::new();
    env.tweak_config(|c| c.listeners[0].max_calls_in_flight = 8);
    env.start().await;
    let from = |last: u8| env.channel_from(Who::Host, [127, 0, 0, last]);
    let (first, second, third) = (from(1).await, from(2).await, from(3).await);
    let mut open = Vec::new();
    for _ in 0..2 {
        open.push(OpenCall::start(first.clone()).await.unwrap());
    }
    let e = SystemServiceClient::new(first.clone()).get_health(GetHealthRequest {}).await;
    let e = e.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("from this address"), "{e:?}");
    let e = OpenCall::start(first.clone()).await.err().expect("a third call from one address");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    // Another address gets its calls through; the calls in flight go on.
    SystemServiceClient::new(second.clone()).get_health(GetHealthRequest {}).await.unwrap();
    for _ in 0..2 {
        open.push(OpenCall::start(second.clone()).await.unwrap());
    }
    open[0].ask_again().await.unwrap();
    // Two more addresses' shares fill the listener: then a new address is refused too.
    for _ in 0..2 {
        open.push(OpenCall::start(third.clone()).await.unwrap());
    }
    let fourth = from(4).await;
    for _ in 0..2 {
        open.push(OpenCall::start(fourth.clone()).await.unwrap());
    }
    let e = SystemServiceClient::new(from(5).await).get_health(GetHealthRequest {}).await;
    let e = e.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("on this listener"), "{e:?}");

    for call in open {
        call.finish().await;
    }
    // A call's place comes back once its response is sent, which the client may see first.
    wait_for("the first address's calls get in again", async || {
        SystemServiceClient::new(first.clone()).get_health(GetHealthRequest {}).await.is_ok()
    })
    .await;
}

/// A connection past `max_connection_age_secs` is asked to close (GOAWAY): the call in
/// flight on it goes on and ends normally, new calls need a new connection, and the old one
/// closes once its call ended. The listener holds one connection per address here, so a
/// new connection gets in only once the old one is gone.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_past_its_age_closes_after_its_calls() {
    let mut env = Env::new();
    env.tweak_config(|c| {
        let host = &mut c.listeners[0];
        host.max_connections_per_address = Some(1);
        host.max_connection_age_secs = 1;
    });
    env.start().await;
    let host = env.client(Who::Host).await;
    let mut call = OpenCall::start(host.channel()).await.unwrap();
    host.system().get_health(GetHealthRequest {}).await.unwrap();
    wait_for("new calls need a new connection, which the old one keeps out", async || {
        host.system().get_health(GetHealthRequest {}).await.is_err()
    })
    .await;
    call.ask_again().await.unwrap();
    call.finish().await;
    wait_for("the old connection closes and a new one gets in", async || {
        host.system().get_health(GetHealthRequest {}).await.is_ok()
    })
    .await;
}

/// A connection whose calls are still in flight `max_connection_age_grace_secs` after its
/// age is closed under them: a client that never reads its answers, or never ends a call,
/// holds what they hold no longer.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_past_its_age_and_grace_is_closed() {
    let mut env = Env::new();
    env.tweak_config(|c| {
        let host = &mut c.listeners[0];
        host.max_connection_age_secs = 1;
        host.max_connection_age_grace_secs = 1;
    });
    env.start().await;
    let host = env.client(Who::Host).await;
    let mut call = OpenCall::start(host.channel()).await.unwrap();
    // A bound for the test, far beyond the two seconds: without the close it waits forever.
    let ended = tokio::time::timeout(Duration::from_secs(20), call.replies.message())
        .await
        .expect("the connection was not closed");
    assert!(ended.is_err(), "the call ended normally: {ended:?}");
    // The client's next calls get a new connection (once it has seen the old one go).
    wait_for("a call on a new connection", async || {
        host.system().get_health(GetHealthRequest {}).await.is_ok()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_a_listeners_limits_are_closed_and_the_others_serve() {
    let mut env = Env::new();
    env.tweak_config(|c| {
        let host = &mut c.listeners[0];
        host.max_connections = 6;
        host.max_connections_per_address = Some(2);
    });
    env.start().await;
    let (host, operator) = (env.host_port, env.operator_port);

    // Two from one address, the third closed; two more addresses fill the listener, and a
    // fourth address finds it full.
    let mut held = vec![silent([127, 0, 0, 1], host).await, silent([127, 0, 0, 1], host).await];
    let mut third = silent([127, 0, 0, 1], host).await;
    assert!(closed(&mut third).await, "a third connection from one address");
    for from in [[127, 0, 0, 2], [127, 0, 0, 3]] {
        held.push(silent(from, host).await);
        held.push(silent(from, host).await);
    }
    let mut full = silent([127, 0, 0, 4], host).await;
    assert!(closed(&mut full).await, "a seventh connection to the listener");
    // Those within the limits are still open (well inside the 10 s handshake timeout: one
    // look at each, without waiting on each in turn).
    for stream in &mut held {
        let mut byte = [0u8; 1];
        let open = matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        assert!(open, "a connection within the limits was closed");
    }

    // The operator's listener is not touched, and on it one address may hold at most 16
    // handshakes at once: silent connections from one address cannot take every slot.
    let op = env.client(Who::Operator).await;
    op.system().get_health(GetHealthRequest {}).await.unwrap();
    let mut handshaking = Vec::new();
    for _ in 0..16 {
        handshaking.push(silent([127, 0, 0, 9], operator).await);
    }
    let mut seventeenth = silent([127, 0, 0, 9], operator).await;
    assert!(closed(&mut seventeenth).await, "a 17th handshake from one address");
    let op = env.client(Who::Operator).await;
    op.system().get_health(GetHealthRequest {}).await.unwrap();

    // Their places come back as they close: the host's client gets in.
    drop(held);
    let env = &env;
    wait_for("the host client gets in", async || {
        match dpu_client::connect(&env.options(Who::Host, host)).await {
            Ok(c) => c.system().get_health(GetHealthRequest {}).await.is_ok(),
            Err(_) => false,
        }
    })
    .await;
    wait_for("the agent logs the closed connections", async || {
        env.log().contains("closing new connections")
    })
    .await;

    // The metrics endpoint serves 64 connections at once (8 from each of 8 addresses); the
    // 65th is closed, and once the others go a scrape gets through.
    let metrics = env.metrics_port;
    let mut idle = Vec::new();
    let per_address = dpud::metrics_http::MAX_CONNECTIONS_PER_ADDRESS;
    for i in 0..dpud::metrics_http::MAX_CONNECTIONS {
        let from = u8::try_from(1 + i / per_address).unwrap();
        idle.push(silent([127, 0, 0, from], metrics).await);
    }
    let mut extra = silent([127, 0, 0, 100], metrics).await;
    assert!(closed(&mut extra).await, "a 65th metrics connection");
    drop(idle);
    wait_for("a scrape gets through", async || scrapes_from([127, 0, 0, 1], metrics).await).await;
}

/// Whether a scrape of the metrics endpoint from `from` (a loopback address) is answered
/// 200 within five seconds.
async fn scrapes_from(from: [u8; 4], port: u16) -> bool {
    use tokio::io::AsyncWriteExt;
    let scrape = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((from, 0)))?;
        let mut stream = socket.connect(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer.starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(5), scrape).await, Ok(Ok(true)))
}

/// A metrics connection from `from` that asks for `/metrics` over and over, pipelined, and
/// never reads an answer (its receive buffer as small as the kernel allows).
async fn never_reads(from: [u8; 4], port: u16) -> (OwnedReadHalf, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncWriteExt;
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    let stream = socket.connect(SocketAddr::from(([127, 0, 0, 1], port))).await.unwrap();
    let (read, mut write) = stream.into_split();
    // More answers than the socket buffers on both sides hold (a scrape is KiBs).
    let asks = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000);
    let asking = tokio::spawn(async move {
        let _ = write.write_all(&asks).await;
        // Held open until the test ends or the agent closes the connection.
        std::future::pending::<()>().await;
    });
    (read, asking)
}

/// The metrics endpoint holds at most 8 connections from one address: more are closed as
/// they arrive while other addresses are served. A peer that never reads its answers holds
/// a connection only until a write waited `WRITE_STALL`: then it is closed and its place
/// comes back.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_connections_are_bounded_per_address_and_by_a_write_deadline() {
    let mut env = Env::new();
    env.start().await;
    let metrics = env.metrics_port;
    let mut stalled = Vec::new();
    for _ in 0..dpud::metrics_http::MAX_CONNECTIONS_PER_ADDRESS {
        stalled.push(never_reads([127, 0, 0, 3], metrics).await);
    }
    let mut ninth = silent([127, 0, 0, 3], metrics).await;
    assert!(closed(&mut ninth).await, "a ninth metrics connection from one address");
    assert!(scrapes_from([127, 0, 0, 2], metrics).await, "another address was not served");
    // Bounded well past the agent's deadline: the test fails only if it never closes them.
    let bound = dpud::metrics_http::WRITE_STALL * 4;
    wait_for_up_to(
        "the stalled connections close and their address is served",
        bound,
        async || scrapes_from([127, 0, 0, 3], metrics).await,
    )
    .await;
    for (_, asking) in stalled {
        asking.abort();
    }
}

/// The shipped config's operator listener is `0.0.0.0` bound to the management interface;
/// here `lo` of the lab's dpu namespace plays that part, and the host namespace dials the
/// card's tmfifo address as a host would.
#[test]
fn a_listener_bound_to_an_interface_is_not_reachable_through_another() {
    let lab = Lab::up(LabOptions::default()).unwrap();
    in_dpu_namespace(&lab, async |lab| {
        let mut env = Env::new();
        env.tweak_config(|c| {
            for l in &mut c.listeners {
                l.address.set_ip(Ipv4Addr::UNSPECIFIED.into());
            }
            c.listeners[1].interface = Some("lo".into());
        });
        env.start().await;
        let op = env.client(Who::Operator).await;
        op.system().get_health(GetHealthRequest {}).await.unwrap();
        let dial = |port: u16| {
            let script = format!("exec 3<>/dev/tcp/192.168.100.2/{port}");
            let out = lab
                .exec_in_timeout(Role::Host, ["bash", "-c", &script], Duration::from_secs(10))
                .unwrap();
            out.status.success()
        };
        assert!(dial(env.host_port), "the host listener answers the host");
        assert!(!dial(env.operator_port), "the operator listener answered the host");
    });
}

/// A host certificate revoked with `dpuctl certs revoke` (the real binary) is refused in the
/// handshake once the agent reads the CRL; the operator's, from another CA, still works.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_client_certificate_is_refused() {
    let mut env = Env::new();
    let certs = env.path("certs");
    let out = std::process::Command::new(common::workspace_bin("dpuctl"))
        .args(["certs", "revoke"])
        .arg(&certs)
        .arg(certs.join("host.crt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("host-ca.crl"));
    env.tweak_config(|c| c.tls.crls = vec!["certs/host-ca.crl".into()]);
    env.start().await;
    let op = env.client(Who::Operator).await;
    op.system().get_health(GetHealthRequest {}).await.unwrap();
    let host = dpu_client::connect(&env.options(Who::Host, env.host_port)).await;
    let refused = match host {
        Err(_) => true,
        Ok(c) => c.system().get_health(GetHealthRequest {}).await.is_err(),
    };
    assert!(refused, "the revoked host certificate got through");
    // The agent logs the refusal after the client has seen it.
    let env = &env;
    wait_for("the agent logs the refused handshake", async || {
        env.log().contains("TLS handshake refused")
    })
    .await;
}

/// Lines any peer can cause at will (a failed TLS handshake, a denied call) are logged
/// once per interval with the count of those not logged, so a flood of them cannot push
/// the agent's other lines past journald's rate limit.
#[tokio::test(flavor = "multi_thread")]
async fn refused_handshakes_and_denied_calls_are_logged_sparingly() {
    let mut env = Env::new();
    env.start().await;
    let ca = env.path("certs/ca.crt");
    let no_cert = std::sync::Arc::new(dpu_pki::client_config_without_cert(&ca).unwrap());
    for _ in 0..40 {
        let tcp = TcpStream::connect(("127.0.0.1", env.operator_port)).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let connector = tokio_rustls::TlsConnector::from(no_cert.clone());
        // TLS 1.3: the client finishes first; the refusal shows on the first read.
        if let Ok(mut tls) = connector.connect(name, tcp).await {
            let _ = tls.read(&mut [0u8; 1]).await;
        }
    }
    let host = env.client(Who::Host).await;
    for _ in 0..40 {
        let request = dpu_proto::dpu::system::v1::GetAgentMetricsRequest {};
        let denied = host.system().get_agent_metrics(request).await.unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }
    // The first of each kind is logged at once; wait for it, then count.
    let env = &env;
    wait_for("the first refused handshake and denied call in the log", async || {
        let log = env.log();
        log.contains("TLS handshake refused") && log.contains("permission denied")
    })
    .await;
    let log = env.log();
    let lines = |what: &str| log.lines().filter(|l| l.contains(what)).count();
    // Two at most: the interval may have passed once while the test ran.
    assert!(lines("TLS handshake refused") <= 2, "{log}");
    assert!(lines("permission denied") <= 2, "{log}");
}
