//! The public API against the real agent binary: authentication, roles, validation, paging,
//! etags, oversized and garbage input. Each refusal must leave the store unchanged.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use common::{Env, Who, http_get};
use dpu_client::Client;
use dpu_proto::dpu::system::v1::{
    CreateSysctlRequest, DeleteSysctlRequest, GetAgentMetricsRequest, GetHealthRequest,
    GetInventoryRequest, GetSysctlRequest, ListSysctlsRequest, Sysctl, SysctlSpec,
    UpdateSysctlRequest,
};
use pbjson_types::FieldMask;
use tonic::Code;
use tonic_types::StatusExt;

fn create(id: &str, value: &str) -> CreateSysctlRequest {
    CreateSysctlRequest {
        sysctl_id: id.into(),
        sysctl: Some(Sysctl {
            spec: Some(SysctlSpec { value: value.into() }),
            ..Default::default()
        }),
    }
}

async fn names(client: &Client) -> Vec<String> {
    let page = client
        .system()
        .list_sysctls(ListSysctlsRequest { page_size: 1000, page_token: String::new() })
        .await
        .unwrap()
        .into_inner();
    page.sysctls.into_iter().map(|s| format!("{}={}", s.name, s.spec.unwrap().value)).collect()
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_are_enforced_and_refusals_change_nothing() {
    let mut env = Env::new();
    env.start().await;
    let host = env.client(Who::Host).await;
    let operator = env.client(Who::Operator).await;

    // The host may read.
    host.system().get_health(GetHealthRequest {}).await.unwrap();
    let inv = host.system().get_inventory(GetInventoryRequest {}).await.unwrap().into_inner();
    assert!(inv.interfaces.iter().any(|i| i.name == "lo"));
    assert!(inv.versions.iter().any(|v| v.component == "dpud"));
    assert!(inv.versions.iter().any(|v| v.component == "system"));

    // The host may not write, nor read agent metrics.
    let denied = host.system().create_sysctl(create("net.ipv4.ip_forward", "1")).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("operator"), "{}", denied.message());
    assert!(denied.message().ends_with("this client has the host role"), "{}", denied.message());
    let denied = host.system().get_agent_metrics(GetAgentMetricsRequest {}).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(names(&operator).await.is_empty(), "a refused call persisted something");

    // An operator certificate on the host-facing listener is capped to the host role.
    let capped = dpu_client::connect(&env.options(Who::Operator, env.host_port)).await.unwrap();
    let denied =
        capped.system().create_sysctl(create("net.ipv4.ip_forward", "1")).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Told that the listener, not the certificate, is why, and where to go instead.
    assert!(
        denied.message().contains("listener \"host\" caps every client at the host role")
            && denied.message().contains("operator listener"),
        "{}",
        denied.message()
    );
    assert!(names(&operator).await.is_empty());

    // The operator may.
    operator.system().create_sysctl(create("net.ipv4.ip_forward", "1")).await.unwrap();
    assert_eq!(names(&host).await, ["sysctls/net.ipv4.ip_forward=1"]);

    // Metrics saw all of it.
    let m =
        operator.system().get_agent_metrics(GetAgentMetricsRequest {}).await.unwrap().into_inner();
    let create_stats = m.methods.iter().find(|x| x.method.ends_with("/CreateSysctl")).unwrap();
    assert_eq!((create_stats.requests, create_stats.errors), (3, 2));
    assert_eq!(m.stored_objects, 1);
    let text = http_get(env.metrics_port, "/metrics");
    assert!(
        text.contains("dpud_grpc_requests_total{method=\"/dpu.system.v1.SystemService/CreateSysctl\",code=\"PERMISSION_DENIED\"} 2"),
        "{text}"
    );
    // The service comes up asynchronously; it must be reported up within a few probes.
    let mut up = String::new();
    for _ in 0..100 {
        up = http_get(env.metrics_port, "/metrics");
        if up.contains("dpud_service_up{service=\"system\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up.contains("dpud_service_up{service=\"system\"} 1"), "{up}");
    assert!(up.starts_with("HTTP/1.1 200"), "{up}");
    // No nvmf service on this agent: the scrape says its statistics were not read.
    assert!(up.contains("\ndpu_nvmf_stats_up 0\n"), "{up}");
    assert!(!up.contains("dpu_nvmf_connections_total"), "{up}");
    assert!(http_get(env.metrics_port, "/nope").starts_with("HTTP/1.1 404"));
}

/// A TLS client built by hand, to present no certificate or a wrong one.
async fn raw_call(env: &Env, config: rustls::ClientConfig) -> Result<(), String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let port = env.operator_port;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| e.to_string())?;
    let mut client =
        dpu_proto::dpu::system::v1::system_service_client::SystemServiceClient::new(channel);
    client.get_health(GetHealthRequest {}).await.map(|_| ()).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_without_a_trusted_certificate_are_refused() {
    let mut env = Env::new();
    env.start().await;
    let ca = env.path("certs/ca.crt");
    let no_cert = dpu_pki::client_config_without_cert(&ca).unwrap();
    assert!(raw_call(&env, no_cert).await.is_err(), "a client without a certificate got an answer");
    // The server's own certificate is valid but issued by no client CA (and is not a client cert).
    let wrong =
        dpu_pki::client_config(&ca, &env.path("certs/server.crt"), &env.path("certs/server.key"))
            .unwrap();
    assert!(
        raw_call(&env, wrong).await.is_err(),
        "a certificate from an untrusted CA got an answer"
    );
    // A proper one works on the same path, so the refusals were about the certificate.
    let good = dpu_pki::client_config(
        &ca,
        &env.path("certs/operator.crt"),
        &env.path("certs/operator.key"),
    )
    .unwrap();
    raw_call(&env, good).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_its_status_and_changes_nothing() {
    let mut env = Env::new();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let mut sys = op.system();
    let first = sys.create_sysctl(create("vm.swappiness", "10")).await.unwrap().into_inner();
    let before = names(&op).await;

    // Invalid names and ids.
    for id in ["", "net..ipv4", "../../etc/passwd", "a/b", "net.ipv4.ip forward"] {
        let e = sys.create_sysctl(create(id, "1")).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{id:?}: {e:?}");
        assert_eq!(field_of(&e), "sysctl_id", "{id:?}");
    }
    let e = sys.get_sysctl(GetSysctlRequest { name: "vm.swappiness".into() }).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "name"));
    // Missing required fields.
    let e = sys
        .create_sysctl(CreateSysctlRequest { sysctl_id: "vm.x".into(), sysctl: None })
        .await
        .unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "sysctl"));
    let e = sys
        .create_sysctl(CreateSysctlRequest {
            sysctl_id: "vm.x".into(),
            sysctl: Some(Sysctl::default()),
        })
        .await
        .unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "sysctl.spec"));
    let e = sys.create_sysctl(create("vm.x", "1\n2")).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "sysctl.spec.value"));
    // Existing and missing objects.
    let e = sys.create_sysctl(create("vm.swappiness", "20")).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = sys.get_sysctl(GetSysctlRequest { name: "sysctls/vm.none".into() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = sys
        .delete_sysctl(DeleteSysctlRequest { name: "sysctls/vm.none".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    sys.delete_sysctl(DeleteSysctlRequest {
        name: "sysctls/vm.none".into(),
        allow_missing: true,
        ..Default::default()
    })
    .await
    .unwrap();
    // Unknown field-mask path.
    let update = |mask: &str, etag: &str, value: &str| UpdateSysctlRequest {
        sysctl: Some(Sysctl {
            name: "sysctls/vm.swappiness".into(),
            spec: Some(SysctlSpec { value: value.into() }),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask { paths: vec![mask.into()] }),
        allow_missing: false,
    };
    let e = sys.update_sysctl(update("status.observed_value", "", "30")).await.unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "update_mask"));
    // Stale etag: update once with the current etag, then again with the old one.
    let second =
        sys.update_sysctl(update("spec.value", &first.etag, "11")).await.unwrap().into_inner();
    assert_eq!(second.generation, 2);
    let e = sys.update_sysctl(update("spec", &first.etag, "12")).await.unwrap_err();
    assert_eq!(e.code(), Code::Aborted, "{e:?}");
    let e = sys
        .delete_sysctl(DeleteSysctlRequest {
            name: second.name.clone(),
            etag: first.etag.clone(),
            allow_missing: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
    // Bad paging.
    let e = sys
        .list_sysctls(ListSysctlsRequest { page_size: -1, page_token: String::new() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = sys
        .list_sysctls(ListSysctlsRequest { page_size: 1, page_token: "garbage".into() })
        .await
        .unwrap_err();
    assert_eq!((e.code(), field_of(&e).as_str()), (Code::InvalidArgument, "page_token"));

    // A 10 MiB request is refused before it is decoded.
    let e = sys.create_sysctl(create("vm.big", &"x".repeat(10 << 20))).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("limit"), "{e:?}");

    // Garbage bytes on the listener: the connection is closed, nothing else happens.
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0, 0, 0][..],
        &[0u8; 4096][..],
    ] {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", env.operator_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let _ = s.write_all(garbage);
        let mut buf = [0u8; 1024];
        // Either an alert then EOF, or EOF/reset straight away; never a hang.
        let mut total = 0;
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
            assert!(total < 1 << 16, "server kept talking to garbage");
        }
    }

    // Still serving, and the store holds exactly what the successful calls left.
    let mut after = before.clone();
    after[0] = "sysctls/vm.swappiness=11".into();
    assert_eq!(names(&op).await, after);
    sys.get_health(GetHealthRequest {}).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn list_pages_and_update_semantics() {
    let mut env = Env::new();
    env.start().await;
    let mut sys = env.client(Who::Operator).await.system();
    for i in 0..7 {
        sys.create_sysctl(create(&format!("dev.test.k{i}"), &i.to_string())).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..10 {
        let page = sys
            .list_sysctls(ListSysctlsRequest { page_size: 3, page_token: token })
            .await
            .unwrap()
            .into_inner();
        assert!(page.sysctls.len() <= 3);
        seen.extend(page.sysctls.into_iter().map(|s| s.name));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    // Update with allow_missing creates; an unchanged spec keeps generation and etag.
    let req = |v: &str| UpdateSysctlRequest {
        sysctl: Some(Sysctl {
            name: "sysctls/dev.test.new".into(),
            spec: Some(SysctlSpec { value: v.into() }),
            ..Default::default()
        }),
        update_mask: None,
        allow_missing: true,
    };
    let a = sys.update_sysctl(req("5")).await.unwrap().into_inner();
    let b = sys.update_sysctl(req("5")).await.unwrap().into_inner();
    assert_eq!((a.generation, &a.etag), (b.generation, &b.etag));
    let c = sys.update_sysctl(req("6")).await.unwrap().into_inner();
    assert_eq!(c.generation, 2);
    assert!(c.create_time.is_some() && c.update_time.is_some());
}

/// A write is checked against the whole stored state and stored under one writer lock: a
/// namespace created while its volume is deleted can never both succeed (which would leave a
/// namespace pointing at nothing). Racing pairs, many rounds; without the lock some round lets
/// both through.
#[tokio::test(flavor = "multi_thread")]
async fn racing_writes_cannot_both_pass_their_checks() {
    use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
    use dpu_proto::dpu::nvmf::v1::{
        CreateNamespaceRequest, CreateSubsystemRequest, CreateVolumeRequest, DeleteVolumeRequest,
        ListNamespacesRequest, ListVolumesRequest, Namespace, NamespaceSpec, RamBackend, Subsystem,
        SubsystemSpec, Volume, VolumeSpec,
    };
    let mut env = Env::with_nvmf();
    env.start().await;
    let client = env.client(Who::Operator).await;
    let mut nvmf = client.nvmf();
    nvmf.create_subsystem(CreateSubsystemRequest {
        subsystem_id: "s1".into(),
        subsystem: Some(Subsystem {
            spec: Some(SubsystemSpec {
                nqn: "nqn.2024-01.io.example:race".into(),
                serial_number: "RACE".into(),
                model_number: "race".into(),
                allow_any_host: true,
                ..Default::default()
            }),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    let (mut both, mut rounds) = (0, 0);
    for round in 1..=40u32 {
        let volume = format!("v{round}");
        nvmf.create_volume(CreateVolumeRequest {
            volume_id: volume.clone(),
            volume: Some(Volume {
                spec: Some(VolumeSpec {
                    backend: Some(Backend::Ram(RamBackend { size_bytes: 1 << 20 })),
                    block_size: 512,
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
        let (mut a, mut b) = (client.nvmf(), client.nvmf());
        let create = a.create_namespace(CreateNamespaceRequest {
            parent: "subsystems/s1".into(),
            namespace_id: round.to_string(),
            namespace: Some(Namespace {
                spec: Some(NamespaceSpec {
                    volume: format!("volumes/{volume}"),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        });
        let delete = b.delete_volume(DeleteVolumeRequest {
            name: format!("volumes/{volume}"),
            ..Default::default()
        });
        let (created, deleted) = tokio::join!(create, delete);
        rounds += 1;
        if created.is_ok() && deleted.is_ok() {
            both += 1;
        }
        // Whichever lost was refused for the reference, nothing else.
        if let Err(e) = &created {
            assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        }
        if let Err(e) = &deleted {
            assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        }
    }
    assert_eq!(both, 0, "{both} of {rounds} rounds stored a namespace and deleted its volume");
    // The stored state holds together: every namespace's volume exists.
    let volumes: Vec<String> = nvmf
        .list_volumes(ListVolumesRequest { page_size: 1000, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .volumes
        .into_iter()
        .map(|v| v.name)
        .collect();
    let namespaces = nvmf
        .list_namespaces(ListNamespacesRequest {
            parent: "subsystems/s1".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .namespaces;
    for ns in namespaces {
        let v = ns.spec.unwrap().volume;
        assert!(volumes.contains(&v), "{} refers to deleted {v}", ns.name);
    }
}

/// No two namespaces, in one subsystem or two, have one NGUID or one UUID (compared as the
/// service reads them: case and dashes aside) or one volume: a create or update that would
/// is FAILED_PRECONDITION naming the namespace that has it, and an all-zero identifier is
/// INVALID_ARGUMENT. The check runs under the store's writer lock: of two racing creates
/// that would share an NGUID or a volume, one is stored.
#[tokio::test(flavor = "multi_thread")]
async fn namespaces_share_no_identifier_and_no_volume() {
    use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
    use dpu_proto::dpu::nvmf::v1::{
        CreateNamespaceRequest, CreateSubsystemRequest, CreateVolumeRequest, Namespace,
        NamespaceSpec, RamBackend, Subsystem, SubsystemSpec, UpdateNamespaceRequest, Volume,
        VolumeSpec,
    };
    const NGUID: &str = "00112233445566778899aabbccddeeff";
    const UUID: &str = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    let mut env = Env::with_nvmf();
    env.start().await;
    let client = env.client(Who::Operator).await;
    let mut nvmf = client.nvmf();
    for s in ["s1", "s2"] {
        let spec = SubsystemSpec {
            nqn: format!("nqn.2024-01.io.example:{s}"),
            allow_any_host: true,
            ..Default::default()
        };
        let subsystem = Some(Subsystem { spec: Some(spec), ..Default::default() });
        let request = CreateSubsystemRequest { subsystem_id: s.into(), subsystem };
        nvmf.create_subsystem(request).await.unwrap();
    }
    let volumes: Vec<String> = (1..=42).map(|i| format!("v{i}")).collect();
    for v in &volumes {
        let spec = VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes: 1 << 20 })),
            ..Default::default()
        };
        let volume = Some(Volume { spec: Some(spec), ..Default::default() });
        nvmf.create_volume(CreateVolumeRequest { volume_id: v.clone(), volume }).await.unwrap();
    }
    let spec = |volume: &str, nguid: &str, uuid: &str| NamespaceSpec {
        volume: format!("volumes/{volume}"),
        nguid: nguid.into(),
        uuid: uuid.into(),
        ..Default::default()
    };
    let create = |parent: &str, nsid: u32, spec: NamespaceSpec| CreateNamespaceRequest {
        parent: format!("subsystems/{parent}"),
        namespace_id: nsid.to_string(),
        namespace: Some(Namespace { spec: Some(spec), ..Default::default() }),
    };
    nvmf.create_namespace(create("s1", 1, spec("v1", NGUID, UUID))).await.unwrap();
    let refused = [
        (create("s2", 1, spec("v2", &NGUID.to_uppercase(), "")), "has NGUID 00112233"),
        (create("s1", 2, spec("v2", "", &UUID.replace('-', "").to_uppercase())), "has UUID 1b4e"),
        // The namespaces' reason (not the volumes').
        (
            create("s2", 1, spec("v1", "", "")),
            "namespace.spec.volume: volumes/v1 is the volume of subsystems/s1/namespaces/1; a \
             volume backs one namespace (as SPDK lets one namespace claim a bdev); two would \
             show hosts one medium as two",
        ),
    ];
    for (request, says) in refused {
        let e = nvmf.create_namespace(request).await.unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains(says), "{e:?}");
        assert!(e.message().contains("subsystems/s1/namespaces/1"), "{e:?}");
    }
    let zero = "00000000-0000-0000-0000-000000000000";
    for (request, field) in [
        (create("s2", 1, spec("v2", &"0".repeat(32), "")), "namespace.spec.nguid"),
        (create("s2", 1, spec("v2", "", zero)), "namespace.spec.uuid"),
    ] {
        let e = nvmf.create_namespace(request).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        let violation = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, field);
    }
    // An update may not take them either; a namespace keeps its own.
    nvmf.create_namespace(create("s2", 1, spec("v2", "", ""))).await.unwrap();
    let update = |name: &str, spec: NamespaceSpec| UpdateNamespaceRequest {
        namespace: Some(Namespace { name: name.into(), spec: Some(spec), ..Default::default() }),
        update_mask: None,
        allow_missing: false,
    };
    for spec in [spec("v1", "", ""), spec("v2", NGUID, "")] {
        let e = nvmf.update_namespace(update("subsystems/s2/namespaces/1", spec)).await;
        assert_eq!(e.unwrap_err().code(), Code::FailedPrecondition);
    }
    let own = NamespaceSpec { read_only: true, ..spec("v1", NGUID, UUID) };
    nvmf.update_namespace(update("subsystems/s1/namespaces/1", own)).await.unwrap();

    // Racing creates: one NGUID on two volumes, or one volume without IDs.
    for round in 0..20u32 {
        let (a, b) = (&volumes[2 + 2 * round as usize], &volumes[3 + 2 * round as usize]);
        let nguid = format!("{:032x}", round + 1);
        let (first, second) = if round % 2 == 0 {
            (spec(a, &nguid, ""), spec(b, &nguid, ""))
        } else {
            (spec(a, "", ""), spec(a, "", ""))
        };
        let (mut x, mut y) = (client.nvmf(), client.nvmf());
        let nsid = 10 + 2 * round;
        let (one, two) = tokio::join!(
            x.create_namespace(create("s1", nsid, first)),
            y.create_namespace(create("s2", nsid + 1, second)),
        );
        assert!(one.is_ok() != two.is_ok(), "round {round}: {one:?} {two:?}");
        let e = one.err().or(two.err()).unwrap();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    }
}

/// No two volumes are on one file or block device: a create or update naming another
/// volume's medium (as written, or by another path to it, such as a symbolic link) is
/// FAILED_PRECONDITION naming that volume, and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn volumes_share_no_medium() {
    use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
    use dpu_proto::dpu::nvmf::v1::{
        CreateVolumeRequest, FileBackend, GetVolumeRequest, UpdateVolumeRequest, Volume, VolumeSpec,
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
    std::fs::write(&a, b"").unwrap();
    let link = dir.path().join("link-to-a.img");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let file = |path: &std::path::Path| VolumeSpec {
        backend: Some(Backend::File(FileBackend {
            path: path.display().to_string(),
            size_bytes: 1 << 20,
        })),
        ..Default::default()
    };
    let mut env = Env::with_nvmf();
    env.start().await;
    let client = env.client(Who::Operator).await;
    let mut nvmf = client.nvmf();
    let create = |id: &str, spec: VolumeSpec| CreateVolumeRequest {
        volume_id: id.into(),
        volume: Some(Volume { spec: Some(spec), ..Default::default() }),
    };
    nvmf.create_volume(create("a", file(&a))).await.unwrap();
    // The volumes' reason, naming the other volume and the path resolved.
    let refusal = format!(
        "volume.spec: {} is the medium of volumes/a; two volumes on one file or block device \
         would show hosts one medium as two namespaces",
        std::fs::canonicalize(&a).unwrap().display()
    );
    for path in [a.clone(), link.clone(), dir.path().join("./a.img")] {
        let e = nvmf.create_volume(create("again", file(&path))).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{path:?}: {e:?}");
        assert_eq!(e.message(), refusal, "{path:?}");
    }
    nvmf.create_volume(create("b", file(&b))).await.unwrap();
    let onto_a = UpdateVolumeRequest {
        volume: Some(Volume {
            name: "volumes/b".into(),
            spec: Some(file(&link)),
            ..Default::default()
        }),
        update_mask: None,
        allow_missing: false,
    };
    let e = nvmf.update_volume(onto_a).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
    let kept = nvmf.get_volume(GetVolumeRequest { name: "volumes/b".into() }).await.unwrap();
    assert_eq!(kept.into_inner().spec.unwrap(), file(&b));
    let missing = nvmf.get_volume(GetVolumeRequest { name: "volumes/again".into() }).await;
    assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);

    // A file not made yet is one medium however spelt: `..`, a linked directory. (The
    // service cannot make the first two, whose `missing` directory is not there.)
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(&sub, dir.path().join("to-sub")).unwrap();
    let unmade = [("later", "missing/../f.img"), ("in-sub", "to-sub/missing/../g.img")];
    for (id, path) in unmade {
        nvmf.create_volume(create(id, file(&dir.path().join(path)))).await.unwrap();
    }
    for (path, holder) in [
        ("f.img", "volumes/later"),
        ("sub/../f.img", "volumes/later"),
        ("to-sub/../f.img", "volumes/later"),
        ("sub/g.img", "volumes/in-sub"),
    ] {
        let e = nvmf.create_volume(create("again", file(&dir.path().join(path)))).await;
        let e = e.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{path}: {e:?}");
        assert!(e.message().contains(holder), "{e:?}");
    }
    assert!(!dir.path().join("f.img").exists() && !sub.join("g.img").exists());
}

/// A namespace names in `allowed_hosts` only hosts its subsystem lets in (any, or one of
/// its `allowed_hosts`): another (a typo) would never see the namespace, so a create or an
/// update naming one is FAILED_PRECONDITION naming the field and the host, and changes
/// nothing. A subsystem may still drop a host a namespace names (revoking a host is one
/// write); the namespace's entry is then inert, and an update of the namespace that keeps
/// it is not refused for it.
#[tokio::test(flavor = "multi_thread")]
async fn a_namespace_names_only_hosts_its_subsystem_lets_in() {
    use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
    use dpu_proto::dpu::nvmf::v1::{
        CreateNamespaceRequest, CreateSubsystemRequest, CreateVolumeRequest, GetNamespaceRequest,
        Namespace, NamespaceSpec, RamBackend, Subsystem, SubsystemSpec, UpdateNamespaceRequest,
        UpdateSubsystemRequest, Volume, VolumeSpec,
    };
    const H1: &str = "nqn.2014-08.org.example:h1";
    const H2: &str = "nqn.2014-08.org.example:h2";
    const TYPO: &str = "nqn.2014-08.org.example:hl";
    let mut env = Env::with_nvmf();
    env.start().await;
    let client = env.client(Who::Operator).await;
    let mut nvmf = client.nvmf();
    let subsystem = |s: &str, any: bool, hosts: &[&str]| {
        let spec = SubsystemSpec {
            nqn: format!("nqn.2024-01.io.example:{s}"),
            allow_any_host: any,
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            ..Default::default()
        };
        Subsystem { name: format!("subsystems/{s}"), spec: Some(spec), ..Default::default() }
    };
    for (s, any) in [("s1", false), ("open", true)] {
        let subsystem = Some(Subsystem { name: String::new(), ..subsystem(s, any, &[H1, H2]) });
        let request = CreateSubsystemRequest { subsystem_id: s.into(), subsystem };
        nvmf.create_subsystem(request).await.unwrap();
    }
    for v in ["v1", "v2", "v3"] {
        let spec = VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes: 1 << 20 })),
            ..Default::default()
        };
        let volume = Some(Volume { spec: Some(spec), ..Default::default() });
        nvmf.create_volume(CreateVolumeRequest { volume_id: v.into(), volume }).await.unwrap();
    }
    let spec = |volume: &str, hosts: &[&str]| NamespaceSpec {
        volume: format!("volumes/{volume}"),
        allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        ..Default::default()
    };
    let create = |parent: &str, nsid: u32, spec: NamespaceSpec| CreateNamespaceRequest {
        parent: format!("subsystems/{parent}"),
        namespace_id: nsid.to_string(),
        namespace: Some(Namespace { spec: Some(spec), ..Default::default() }),
    };
    let refusal = |i: usize, host: &str| {
        format!(
            "namespace.spec.allowed_hosts[{i}]: subsystems/s1 does not let host {host} in \
             (allow_any_host is false and its allowed_hosts do not list it): no such host \
             would ever see the namespace; add the host to the subsystem first"
        )
    };

    let e = nvmf.create_namespace(create("s1", 1, spec("v1", &[H1, TYPO]))).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(e.message(), refusal(1, TYPO));
    let get = |nsid: u32| GetNamespaceRequest { name: format!("subsystems/s1/namespaces/{nsid}") };
    assert_eq!(nvmf.get_namespace(get(1)).await.unwrap_err().code(), Code::NotFound);
    let created = nvmf.create_namespace(create("s1", 1, spec("v1", &[H1, H2]))).await.unwrap();
    // Any host, where the subsystem lets any in.
    nvmf.create_namespace(create("open", 1, spec("v2", &[TYPO]))).await.unwrap();

    let update = |s: NamespaceSpec, etag: &str| UpdateNamespaceRequest {
        namespace: Some(Namespace {
            name: "subsystems/s1/namespaces/1".into(),
            etag: etag.into(),
            spec: Some(s),
            ..Default::default()
        }),
        update_mask: None,
        allow_missing: false,
    };
    let e = nvmf.update_namespace(update(spec("v1", &[TYPO]), "")).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert_eq!(e.message(), refusal(0, TYPO));
    let kept = nvmf.get_namespace(get(1)).await.unwrap().into_inner();
    assert_eq!(kept.etag, created.into_inner().etag, "a refused update changed the namespace");

    // Revoking H2 is one write; the namespace's H2 is then inert, and an update that keeps
    // it passes, while one naming H2 anew (another namespace) does not.
    let revoke = UpdateSubsystemRequest {
        subsystem: Some(subsystem("s1", false, &[H1])),
        update_mask: None,
        allow_missing: false,
    };
    nvmf.update_subsystem(revoke).await.unwrap();
    let moved = NamespaceSpec { ana_group: 2, ..spec("v1", &[H1, H2]) };
    nvmf.update_namespace(update(moved, "")).await.unwrap();
    let e = nvmf.create_namespace(create("s1", 2, spec("v3", &[H2]))).await.unwrap_err();
    assert_eq!(e.message(), refusal(0, H2));
}

/// `max_request_bytes` caps every message a client may send, not only those of the agent's
/// own services: health and reflection, which the host role may call, refuse a larger one
/// too, before it is decoded (tonic's own default for them was 4 MiB whatever the
/// configuration said), and a message within the cap still gets its answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_request_limit_covers_health_and_reflection() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::{ServerReflectionRequest, server_reflection_response};

    let mut env = Env::new();
    env.tweak_config(|c| c.max_request_bytes = 1024);
    env.start().await;
    let host = env.client(Who::Host).await;
    let big = "x".repeat(4096);

    let e = host.system().create_sysctl(create("vm.swappiness", &big)).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let mut health = HealthClient::new(host.channel());
    let e = health.check(HealthCheckRequest { service: big.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let e = health.check(HealthCheckRequest { service: "no.such.Service".into() }).await;
    assert_eq!(e.unwrap_err().code(), Code::NotFound);

    let mut reflection = ServerReflectionClient::new(host.channel());
    // A question reflection answers, made large by its (unused) `host` field.
    let ask = |host: &str| ServerReflectionRequest {
        host: host.into(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "dpu.system.v1.SystemService".into(),
        )),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter([ask(&big)]))
        .await
        .unwrap()
        .into_inner();
    let e = replies.message().await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter([ask("")]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    assert!(
        matches!(
            reply.message_response,
            Some(server_reflection_response::MessageResponse::FileDescriptorResponse(_))
        ),
        "{reply:?}"
    );
}

/// Health and reflection take requests of at most 64 KiB whatever `max_request_bytes` says
/// (theirs are a name or two, reflection echoes a request twice in its reply, and the host
/// role may call both): a larger one is RESOURCE_EXHAUSTED, on reflection's stream too (the
/// stream of a v1alpha client as well), and one within the limit is answered.
#[tokio::test(flavor = "multi_thread")]
async fn health_and_reflection_take_small_requests_only() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::{ServerReflectionRequest, server_reflection_response};
    use tonic_reflection::pb::v1alpha;

    let mut env = Env::new();
    env.start().await;
    let host = env.client(Who::Host).await;
    let (over, within) = ("x".repeat(65 * 1024), "x".repeat(60 * 1024));

    let mut health = HealthClient::new(host.channel());
    let e = health.check(HealthCheckRequest { service: over.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let e = health.check(HealthCheckRequest { service: within.clone() }).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");

    let mut reflection = ServerReflectionClient::new(host.channel());
    let ask = |host: &str| ServerReflectionRequest {
        host: host.into(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter([ask(&within), ask(&over), ask("")]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    assert_eq!(reply.valid_host, within);
    assert!(
        matches!(
            reply.message_response,
            Some(server_reflection_response::MessageResponse::ListServicesResponse(_))
        ),
        "{reply:?}"
    );
    let e = replies.message().await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("larger than the limit of 65536 bytes"), "{e:?}");

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(host.channel());
    let ask = v1alpha::ServerReflectionRequest {
        host: over,
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut replies =
        alpha.server_reflection_info(tokio_stream::iter([ask])).await.unwrap().into_inner();
    let e = replies.message().await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
}

/// A service that hangs (here: stopped) costs a caller of a read passed on to it
/// `SERVICE_ANSWER_TIMEOUT`, answered UNAVAILABLE, not its whole deadline.
#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_service_is_unavailable_before_the_callers_deadline() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let mut env = Env::new();
    env.start().await;
    let host = env.client(Who::Host).await;
    host.system().get_inventory(GetInventoryRequest {}).await.unwrap();

    // The process that answers, as it says itself: one the agent replaced while the
    // machine was slow may still be exiting, and a scan of /proc could find that one.
    let mut control =
        dpu_proto::dpu::internal::v1::service_control_client::ServiceControlClient::new(
            dpu_runtime::unix::channel(&env.socket()),
        );
    let info = control
        .get_service_info(dpu_proto::dpu::internal::v1::GetServiceInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let pid = Pid::from_raw(i32::try_from(info.pid).unwrap());
    common::stop_process(pid).await;
    // The client's own deadline is 10 s (`Env::options`); the agent gives up first.
    let stuck = host.system().get_inventory(GetInventoryRequest {}).await;
    kill(pid, Signal::SIGCONT).unwrap();
    let stuck = stuck.unwrap_err();
    assert_eq!(stuck.code(), Code::Unavailable, "{stuck:?}");
    assert!(stuck.message().contains("did not answer within"), "{}", stuck.message());

    // Answered again once it runs.
    common::wait_for("the inventory again", async || {
        host.system().get_inventory(GetInventoryRequest {}).await.is_ok()
    })
    .await;
}

/// An HTTP/2 frame header (RFC 9113 §4.1).
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A client whose frames make the server reset stream after stream (a WINDOW_UPDATE that
/// takes an open stream's window past 2^31-1 is a stream error, RFC 9113 §6.9.1;
/// "MadeYouReset", CVE-2025-8671)
/// is sent away with GOAWAY ENHANCE_YOUR_CALM instead of costing the agent work without
/// end.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_makes_the_server_reset_streams_is_sent_away() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SETTINGS: u8 = 4;
    const GOAWAY: u8 = 7;
    const WINDOW_UPDATE: u8 = 8;
    const ENHANCE_YOUR_CALM: u32 = 0xb;
    let mut env = Env::new();
    env.start().await;
    let config = dpu_pki::client_config(
        &env.path("certs/ca.crt"),
        &env.path("certs/operator.crt"),
        &env.path("certs/operator.key"),
    )
    .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", env.operator_port)).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    let (mut rd, mut wr) = tokio::io::split(tls);
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(h2_frame(SETTINGS, 0, 0, &[]));
    wr.write_all(&hello).await.unwrap();
    // One frame from the server: its kind, flags and payload.
    async fn frame(rd: &mut (impl AsyncReadExt + Unpin)) -> Option<(u8, u8, Vec<u8>)> {
        let mut head = [0u8; 9];
        rd.read_exact(&mut head).await.ok()?;
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        rd.read_exact(&mut payload).await.ok()?;
        Some((head[3], head[4], payload))
    }
    // The server's SETTINGS, acknowledged (an early acknowledgement is a protocol error).
    while let Some((kind, flags, _)) = frame(&mut rd).await {
        if kind == SETTINGS && flags & 1 == 0 {
            break;
        }
    }
    wr.write_all(&h2_frame(SETTINGS, 1, 0, &[])).await.unwrap();
    // The error code of the server's GOAWAY, if one comes before the end.
    let reader = tokio::spawn(async move {
        while let Some((kind, _, payload)) = frame(&mut rd).await {
            if kind == GOAWAY {
                return Some(u32::from_be_bytes(payload[4..8].try_into().unwrap()));
            }
        }
        None
    });
    // HPACK (RFC 7541): :method POST (static 3), :scheme https (7), :path and
    // content-type as literals without indexing; no END_STREAM, so the call waits for
    // its body and the stream stays open for the WINDOW_UPDATE.
    let mut block = vec![0x83, 0x87, 0x04];
    let path = b"/dpu.system.v1.SystemService/GetHealth";
    block.push(u8::try_from(path.len()).unwrap());
    block.extend_from_slice(path);
    block.extend_from_slice(&[0x00, 12]);
    block.extend_from_slice(b"content-type");
    block.push(16);
    block.extend_from_slice(b"application/grpc");
    const END_HEADERS: u8 = 4;
    // Well past the limit (1,024), also counting streams refused while others are open.
    for i in 0..3000u32 {
        let stream = 2 * i + 1;
        let mut frames = h2_frame(1, END_HEADERS, stream, &block);
        frames.extend(h2_frame(WINDOW_UPDATE, 0, stream, &0x7FFF_FFFFu32.to_be_bytes()));
        if wr.write_all(&frames).await.is_err() {
            break; // sent away already
        }
    }
    let goaway =
        tokio::time::timeout(Duration::from_secs(20), reader).await.expect("no GOAWAY").unwrap();
    assert_eq!(goaway, Some(ENHANCE_YOUR_CALM));
    // Other clients are served.
    let op = env.client(Who::Operator).await;
    op.system().get_health(GetHealthRequest {}).await.unwrap();
}

/// A write of a kind whose service the agent's configuration leaves out is refused
/// (FAILED_PRECONDITION naming the `[[services]]` entry) and stores nothing, through the
/// API and through `dpuctl apply` (one line per refused object, exit 1): nothing would
/// ever apply it. What an earlier configuration stored is still read and deleted, and
/// grpc.health reports the service NOT_SERVING.
#[tokio::test(flavor = "multi_thread")]
async fn writes_need_their_service_configured() {
    use dpu_proto::dpu::nvmf::v1::{
        CreateVolumeRequest, GetVolumeRequest, ListVolumesRequest, RamBackend, UpdateVolumeRequest,
        Volume, VolumeSpec, volume_spec::Backend,
    };
    use dpu_proto::dpu::switch::v1::{BridgeResource, BridgeSpec, CreateBridgeRequest};
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let ram = |id: &str, size_bytes| Volume {
        name: format!("volumes/{id}"),
        spec: Some(VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes })),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut env = Env::with_nvmf();
    env.start().await;
    let op = env.client(Who::Operator).await;
    let volume = Some(ram("v1", 1 << 20));
    op.nvmf().create_volume(CreateVolumeRequest { volume_id: "v1".into(), volume }).await.unwrap();
    // The same store under a configuration without the nvmf service.
    env.kill_all();
    env.nvmf = false;
    env.tweak_config(|_| {});
    env.start().await;
    let op = env.client(Who::Operator).await;

    let mut health = HealthClient::new(op.channel());
    let mut status = async |service: &str| {
        let request = HealthCheckRequest { service: service.into() };
        health.check(request).await.unwrap().into_inner().status
    };
    assert_eq!(status("").await, ServingStatus::Serving as i32);
    assert_eq!(status("dpu.system.v1.SystemService").await, ServingStatus::Serving as i32);
    assert_eq!(status("dpu.nvmf.v1.NvmfService").await, ServingStatus::NotServing as i32);
    assert_eq!(status("dpu.switch.v1.SwitchService").await, ServingStatus::NotServing as i32);

    let unconfigured = |e: tonic::Status, service: &str| {
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        let entry = format!("[[services]] name = \"{service}\"");
        assert!(e.message().contains(&entry), "{e:?}");
    };
    let mut nvmf = op.nvmf();
    let volume = Some(ram("v2", 1 << 20));
    let e = nvmf.create_volume(CreateVolumeRequest { volume_id: "v2".into(), volume }).await;
    unconfigured(e.unwrap_err(), "nvmf");
    let update = UpdateVolumeRequest { volume: Some(ram("v1", 2 << 20)), ..Default::default() };
    unconfigured(nvmf.update_volume(update).await.unwrap_err(), "nvmf");
    let bridge = BridgeResource {
        spec: Some(BridgeSpec { vlan: Some(10), ..Default::default() }),
        ..Default::default()
    };
    let request = CreateBridgeRequest { bridge_id: "b1".into(), bridge: Some(bridge) };
    unconfigured(op.switch().create_bridge(request).await.unwrap_err(), "switch");

    let manifest = env.path("mixed.yaml");
    std::fs::write(
        &manifest,
        "kind: Sysctl\nname: vm.swappiness\nspec: {value: \"10\"}\n---\n\
         kind: Volume\nname: ram1\nspec: {ram: {sizeBytes: \"1048576\"}}\n---\n\
         kind: Listener\nname: tcp\nspec: {address: 127.0.0.1, port: 4420}\n---\n\
         kind: Bridge\nname: b1\nspec: {vlan: 10}\n",
    )
    .unwrap();
    let out = common::dpuctl(&env, Who::Operator, &["apply", "-f", manifest.to_str().unwrap()]);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "sysctls/vm.swappiness created\n", "{stderr}");
    for (name, service) in
        [("volumes/ram1", "nvmf"), ("listeners/tcp", "nvmf"), ("bridges/b1", "switch")]
    {
        let line =
            format!("dpuctl: {name}: FAILED_PRECONDITION: the {service} service is not configured");
        assert!(stderr.lines().any(|l| l.starts_with(&line)), "{line} in\n{stderr}");
    }

    // What is stored can be seen, and cleaned up.
    let volumes = async || {
        let page = op.nvmf().list_volumes(ListVolumesRequest::default()).await.unwrap();
        page.into_inner().volumes.into_iter().map(|v| v.name).collect::<Vec<_>>()
    };
    assert_eq!(volumes().await, ["volumes/v1"]);
    let v1 = nvmf.get_volume(GetVolumeRequest { name: "volumes/v1".into() }).await.unwrap();
    assert_eq!(v1.into_inner().generation, 1);
    common::ok(&common::dpuctl(&env, Who::Operator, &["delete", "volume", "v1"]));
    assert!(volumes().await.is_empty());
}
