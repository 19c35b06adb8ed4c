//! The switch through the agent, in the lab's namespaces (run as root): the agent runs in the
//! dpu namespace and supervises `dpu-switch`, which binds the representors `pf0vf0`/`pf0vf1`
//! and the uplink `p0`.
//!
//! The operator manages bridges, ports, the VTEP, VRFs, routes, SVIs and static MACs; the agent
//! refuses what the switch would refuse before storing anything, and the host certificate
//! reads only the counters of the host's own ports. End to end: vm1 pings vm2 through a
//! bridge made through the API, the counters and the MAC table show it, and an iperf3
//! transfer survives `kill -9` of the agent (the switch keeps forwarding, the agent re-syncs
//! the same switch instance).
//!
//! Tools: `ip`, `ping`, `ethtool` and `iperf3` (`cargo xtask test` installs them).

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use common::{
    Env, Who, assert_invalid, dpuctl, in_dpu_namespace, ok, service_pid, violation_field, wait_for,
};
use dpu_client::Client;
use dpu_lab::{Lab, LabOptions, Role, SpawnOptions};
use dpu_proto::dpu::switch::v1::{
    ApplyState, BridgeResource, BridgeSpec, CreateBridgeRequest, CreatePortRequest,
    CreateRouteRequest, CreateStaticMacRequest, CreateSviRequest, CreateVrfRequest,
    CreateVtepRequest, DeleteResourceRequest, GetResourceRequest, GetStatusRequest,
    ListChildrenRequest, ListRequest, ListResourcesRequest, ObjectStatus, PortMode, PortResource,
    PortSpec, RemoteVtep, Route, RouteResource, StaticMacResource, StaticMacSpec, SviResource,
    SviSpec, UpdatePortRequest, VrfResource, VrfSpec, VtepResource, VtepSpec,
};
use dpu_proto::dpu::system::v1::GetHealthRequest;
use pbjson_types::FieldMask;
use tonic::Code;

const VM1_IP: &str = "192.0.2.1";
const VM2_IP: &str = "192.0.2.2";

fn applied(s: Option<&ObjectStatus>) -> bool {
    s.is_some_and(|s| s.state == ApplyState::Applied as i32)
}

/// Every stored switch object by name, and whether all are APPLIED.
async fn state(client: &Client) -> (BTreeSet<String>, bool) {
    let mut sw = client.switch();
    let all = ListResourcesRequest::default;
    let children = ListChildrenRequest::default;
    let mut names = BTreeSet::new();
    let mut ok = true;
    let mut add = |name: &str, status: Option<&ObjectStatus>| {
        names.insert(name.to_owned());
        ok &= applied(status);
    };
    for x in sw.list_bridges(all()).await.unwrap().into_inner().bridges {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_ports(all()).await.unwrap().into_inner().ports {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_vteps(all()).await.unwrap().into_inner().vteps {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_vrfs(all()).await.unwrap().into_inner().vrfs {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_routes(children()).await.unwrap().into_inner().routes {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_svis(all()).await.unwrap().into_inner().svis {
        add(&x.name, x.status.as_ref());
    }
    for x in sw.list_static_macs(children()).await.unwrap().into_inner().static_macs {
        add(&x.name, x.status.as_ref());
    }
    (names, ok)
}

fn bridge(vlan: u32, vni: Option<u32>) -> BridgeResource {
    BridgeResource {
        spec: Some(BridgeSpec { vlan: Some(vlan), vni, ..Default::default() }),
        ..Default::default()
    }
}

fn access_port(bridge: &str) -> PortResource {
    PortResource {
        spec: Some(PortSpec {
            mode: PortMode::Access.into(),
            bridge: bridge.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn create_port(
    client: &Client,
    id: &str,
    port: PortResource,
) -> Result<PortResource, tonic::Status> {
    let r = client
        .switch()
        .create_port(CreatePortRequest { port_id: id.into(), port: Some(port) })
        .await;
    r.map(tonic::Response::into_inner)
}

/// Creates one object of every kind (the two-VM bridge with an SVI, a route, a static MAC,
/// and an overlay VTEP on p0); returns their names.
/// The uplink port `p0` and the VTEP `underlay` on it, with `local_mac` ("": p0's own),
/// flooding VNI 100 to 198.51.100.2.
async fn create_uplink_and_vtep(op: &Client, local_mac: &str) {
    let uplink = PortResource {
        spec: Some(PortSpec { mode: PortMode::Uplink.into(), ..Default::default() }),
        ..Default::default()
    };
    create_port(op, "p0", uplink).await.unwrap();
    op.switch()
        .create_vtep(CreateVtepRequest {
            vtep_id: "underlay".into(),
            vtep: Some(VtepResource {
                spec: Some(VtepSpec {
                    uplink: "ports/p0".into(),
                    local_ip: "198.51.100.10".into(),
                    local_mac: local_mac.into(),
                    remotes: vec![RemoteVtep {
                        ip: "198.51.100.2".into(),
                        vnis: vec![100],
                        encap: 0,
                    }],
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
}

/// Bridge `blue`: VLAN 10, VNI 100.
async fn create_blue_bridge(op: &Client) {
    let bridge = Some(bridge(10, Some(100)));
    let request = CreateBridgeRequest { bridge_id: "blue".into(), bridge };
    op.switch().create_bridge(request).await.unwrap();
}

async fn create_all(op: &Client) -> BTreeSet<String> {
    let mut sw = op.switch();
    create_blue_bridge(op).await;
    for vf in ["pf0vf0", "pf0vf1"] {
        create_port(op, vf, access_port("bridges/blue")).await.unwrap();
    }
    create_uplink_and_vtep(op, "02:00:00:00:10:01").await;
    sw.create_vrf(CreateVrfRequest {
        vrf_id: "red".into(),
        vrf: Some(VrfResource { spec: Some(VrfSpec::default()), ..Default::default() }),
    })
    .await
    .unwrap();
    sw.create_svi(CreateSviRequest {
        svi_id: "blue-gw".into(),
        svi: Some(SviResource {
            spec: Some(SviSpec {
                bridge: "bridges/blue".into(),
                vrf: "vrfs/red".into(),
                address: "192.0.2.254/24".into(),
                mac: "02:00:00:00:fe:01".into(),
                address6: String::new(),
            }),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    let route = sw
        .create_route(CreateRouteRequest {
            parent: "vrfs/red".into(),
            route_id: "default".into(),
            route: Some(RouteResource {
                spec: Some(Route { prefix: "0.0.0.0/0".into(), next_hop: "192.0.2.253".into() }),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(route.name, "vrfs/red/routes/default");
    sw.create_static_mac(CreateStaticMacRequest {
        parent: "bridges/blue".into(),
        static_mac_id: "printer".into(),
        static_mac: Some(StaticMacResource {
            spec: Some(StaticMacSpec {
                mac: "02:00:00:00:aa:01".into(),
                port: "ports/pf0vf1".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    [
        "bridges/blue",
        "ports/pf0vf0",
        "ports/pf0vf1",
        "ports/p0",
        "vteps/underlay",
        "vrfs/red",
        "svis/blue-gw",
        "vrfs/red/routes/default",
        "bridges/blue/static-macs/printer",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// A VTEP whose MAC the switch reads from an uplink interface that does not exist yet holds
/// nothing back: the other objects are APPLIED and the VTEP PENDING, saying what it waits
/// for; once the interface appears the switch turns the VTEP on and it is APPLIED too.
#[test]
fn a_vtep_waiting_for_its_uplink_is_pending_and_the_rest_applied() {
    let lab = Lab::up(LabOptions::default()).unwrap();
    in_dpu_namespace(&lab, async |lab| {
        let dpu = |args: &[&str]| lab.run_in(Role::Dpu, args).unwrap();
        dpu(&["ip", "link", "set", "p0", "down"]);
        dpu(&["ip", "link", "set", "p0", "name", "p0-later"]);
        let mut env = Env::with_switch();
        env.start().await;
        let op = env.client(Who::Operator).await;
        let mut sw = op.switch();
        create_blue_bridge(&op).await;
        create_port(&op, "pf0vf0", access_port("bridges/blue")).await.unwrap();
        // No MAC given: the switch takes p0's.
        create_uplink_and_vtep(&op, "").await;
        let vtep = async || {
            let get = GetResourceRequest { name: "vteps/underlay".into() };
            let status = op.switch().get_vtep(get).await.unwrap().into_inner().status;
            status.map(|s| (s.state, s.message)).unwrap_or_default()
        };
        // PENDING, as every object is until the switch has it, then with the reason.
        wait_for("the VTEP PENDING for p0's MAC", async || {
            let (state, message) = vtep().await;
            state == ApplyState::Pending as i32 && message.contains("p0")
        })
        .await;
        let names = ["bridges/blue", "ports/pf0vf0", "ports/p0"];
        for name in names {
            let get = GetResourceRequest { name: name.into() };
            let status = match name {
                "bridges/blue" => sw.get_bridge(get).await.unwrap().into_inner().status,
                _ => sw.get_port(get).await.unwrap().into_inner().status,
            };
            assert!(applied(status.as_ref()), "{name}: {status:?}");
        }
        dpu(&["ip", "link", "set", "p0-later", "name", "p0"]);
        dpu(&["ip", "link", "set", "p0", "up"]);
        wait_for("the VTEP APPLIED", async || vtep().await.0 == ApplyState::Applied as i32).await;
    });
}

#[test]
fn the_operator_manages_switch_resources_and_the_host_reads_only_its_own_ports() {
    let lab = Lab::up(LabOptions::default()).unwrap();
    in_dpu_namespace(&lab, async |_lab| {
        let mut env = Env::with_switch();
        env.start().await;
        let op = env.client(Who::Operator).await;
        let all = create_all(&op).await;
        wait_for("every switch object APPLIED", async || state(&op).await == (all.clone(), true))
            .await;
        let mut sw = op.switch();

        // Paging: two ports, then the third.
        let page = sw
            .list_ports(ListResourcesRequest { page_size: 2, page_token: String::new() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.ports.len(), 2);
        assert!(!page.next_page_token.is_empty());
        let rest = sw
            .list_ports(ListResourcesRequest { page_size: 2, page_token: page.next_page_token })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(rest.ports.len(), 1);
        assert!(rest.next_page_token.is_empty());

        // Update with a mask and the etag; a stale etag is ABORTED; an unknown path refused.
        let vf0 = sw
            .get_port(GetResourceRequest { name: "ports/pf0vf0".into() })
            .await
            .unwrap()
            .into_inner();
        let mut changed = vf0.clone();
        changed.spec.as_mut().unwrap().mtu = 9000;
        let mask = |p: &str| Some(FieldMask { paths: vec![p.into()] });
        let updated = sw
            .update_port(UpdatePortRequest {
                port: Some(changed.clone()),
                update_mask: mask("spec.mtu"),
                allow_missing: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(updated.generation, vf0.generation + 1);
        assert_eq!(updated.spec.as_ref().unwrap().mtu, 9000);
        assert_eq!(updated.spec.as_ref().unwrap().bridge, "bridges/blue");
        let stale = sw
            .update_port(UpdatePortRequest {
                port: Some(changed.clone()),
                update_mask: mask("spec.mtu"),
                allow_missing: false,
            })
            .await
            .unwrap_err();
        assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
        let unknown = sw
            .update_port(UpdatePortRequest {
                port: Some(updated.clone()),
                update_mask: mask("spec.colour"),
                allow_missing: false,
            })
            .await
            .unwrap_err();
        assert_invalid(&unknown, "update_mask");

        // Invalid requests name the field; state conflicts are FAILED_PRECONDITION; nothing
        // changes either way.
        let bad_id = create_port(&op, "pf0/vf9", access_port("bridges/blue")).await.unwrap_err();
        assert_invalid(&bad_id, "port_id");
        let bad_ref = create_port(&op, "pf0vf2", access_port("blue")).await.unwrap_err();
        assert_invalid(&bad_ref, "port.spec.bridge");
        let dangling = create_port(&op, "pf0vf2", access_port("bridges/green")).await.unwrap_err();
        assert_eq!(dangling.code(), Code::FailedPrecondition, "{dangling:?}");
        assert!(dangling.message().contains("bridges/green"), "{}", dangling.message());
        let bad_cidr = sw
            .create_svi(CreateSviRequest {
                svi_id: "bad".into(),
                svi: Some(SviResource {
                    spec: Some(SviSpec {
                        bridge: "bridges/blue".into(),
                        vrf: "vrfs/red".into(),
                        address: "192.0.2.1/33".into(),
                        mac: "02:00:00:00:fe:02".into(),
                        address6: String::new(),
                    }),
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err();
        assert_invalid(&bad_cidr, "svi.spec.address");
        let same_vni = sw
            .create_bridge(CreateBridgeRequest {
                bridge_id: "green".into(),
                bridge: Some(bridge(20, Some(100))),
            })
            .await
            .unwrap_err();
        assert_eq!(same_vni.code(), Code::FailedPrecondition, "{same_vni:?}");
        let second_vtep = sw
            .get_vtep(GetResourceRequest { name: "vteps/underlay".into() })
            .await
            .unwrap()
            .into_inner();
        let again = sw
            .create_vtep(CreateVtepRequest {
                vtep_id: "second".into(),
                vtep: Some(VtepResource { spec: second_vtep.spec, ..Default::default() }),
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
        for name in ["bridges/blue", "vrfs/red", "ports/p0", "ports/pf0vf1"] {
            let e = sw
                .delete_bridge(DeleteResourceRequest { name: name.into(), ..Default::default() })
                .await;
            let e = match name {
                "bridges/blue" => e.unwrap_err(),
                "vrfs/red" => sw
                    .delete_vrf(DeleteResourceRequest { name: name.into(), ..Default::default() })
                    .await
                    .unwrap_err(),
                _ => sw
                    .delete_port(DeleteResourceRequest { name: name.into(), ..Default::default() })
                    .await
                    .unwrap_err(),
            };
            assert_eq!(e.code(), Code::FailedPrecondition, "deleting {name}: {e:?}");
        }
        assert_eq!(state(&op).await.0, all, "a refused request changed the state");

        // The host: counters of its own ports only, no writes, no other reads.
        let host = env.client(Who::Host).await;
        let mut hs = host.switch();
        let own: Vec<String> = hs
            .list_port_statuses(ListRequest::default())
            .await
            .unwrap()
            .into_inner()
            .ports
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(own, ["pf0vf0", "pf0vf1"]);
        let mine =
            hs.get_port_status(GetResourceRequest { name: "ports/pf0vf0".into() }).await.unwrap();
        assert_eq!(mine.into_inner().name, "pf0vf0");
        let uplink =
            hs.get_port_status(GetResourceRequest { name: "ports/p0".into() }).await.unwrap_err();
        assert_eq!(uplink.code(), Code::PermissionDenied);
        let write = hs
            .create_bridge(CreateBridgeRequest {
                bridge_id: "x".into(),
                bridge: Some(bridge(30, None)),
            })
            .await
            .unwrap_err();
        assert_eq!(write.code(), Code::PermissionDenied);
        for e in [
            hs.list_ports(ListResourcesRequest::default()).await.unwrap_err(),
            hs.list_mac_entries(ListRequest::default()).await.unwrap_err(),
            hs.get_switch_status(GetStatusRequest {}).await.unwrap_err(),
        ] {
            assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        }
        // The operator sees every port.
        let every = sw
            .list_port_statuses(ListRequest { page_size: 2, page_token: String::new() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(every.ports.len(), 2);
        let last = sw
            .list_port_statuses(ListRequest {
                page_size: 2,
                page_token: every.next_page_token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(last.ports.len(), 1);
        // A page token is valid only for the listing that gave it (AIP-158): the port
        // listing's ("pf0vf0" hex-encoded, all digits) passed in the tables for an offset, and
        // a table's is no port name.
        let token = |t: &str| ListRequest { page_size: 0, page_token: t.into() };
        let port_token = every.next_page_token.as_str();
        for e in [
            sw.list_mac_entries(token(port_token)).await.unwrap_err(),
            sw.list_neighbours(token(port_token)).await.unwrap_err(),
            sw.list_flows(token(port_token)).await.unwrap_err(),
            sw.list_flows(token("macs.1")).await.unwrap_err(),
            sw.list_port_statuses(token("flows.1")).await.unwrap_err(),
        ] {
            assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
            assert_eq!(violation_field(&e), "page_token", "{e:?}");
            assert_eq!(e.message().matches("page_token").count(), 1, "{e:?}");
        }

        // Delete in dependency order; allow_missing makes a repeated delete a no-op.
        let delete = DeleteResourceRequest::default;
        sw.delete_static_mac(DeleteResourceRequest {
            name: "bridges/blue/static-macs/printer".into(),
            ..delete()
        })
        .await
        .unwrap();
        sw.delete_route(DeleteResourceRequest {
            name: "vrfs/red/routes/default".into(),
            ..delete()
        })
        .await
        .unwrap();
        sw.delete_svi(DeleteResourceRequest { name: "svis/blue-gw".into(), ..delete() })
            .await
            .unwrap();
        sw.delete_vrf(DeleteResourceRequest { name: "vrfs/red".into(), ..delete() }).await.unwrap();
        sw.delete_vtep(DeleteResourceRequest { name: "vteps/underlay".into(), ..delete() })
            .await
            .unwrap();
        for p in ["ports/pf0vf0", "ports/pf0vf1", "ports/p0"] {
            sw.delete_port(DeleteResourceRequest { name: p.into(), ..delete() }).await.unwrap();
        }
        sw.delete_bridge(DeleteResourceRequest { name: "bridges/blue".into(), ..delete() })
            .await
            .unwrap();
        let missing = sw
            .delete_bridge(DeleteResourceRequest { name: "bridges/blue".into(), ..delete() })
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        sw.delete_bridge(DeleteResourceRequest {
            name: "bridges/blue".into(),
            allow_missing: true,
            ..delete()
        })
        .await
        .unwrap();
        assert_eq!(state(&op).await, (BTreeSet::new(), true));

        // The same objects through dpuctl: apply (twice: idempotent), diff, get, list, the
        // host's port counters, delete.
        let manifest = env.path("switch.yaml");
        std::fs::write(&manifest, MANIFEST).unwrap();
        let file = manifest.display().to_string();
        let first = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", &file]));
        assert_eq!(first.matches(" created").count(), all.len(), "{first}");
        wait_for("the manifest APPLIED", async || state(&op).await == (all.clone(), true)).await;
        let again = ok(&dpuctl(&env, Who::Operator, &["apply", "-f", &file]));
        assert_eq!(again.matches(" unchanged").count(), all.len(), "{again}");
        ok(&dpuctl(&env, Who::Operator, &["diff", "-f", &file]));
        let route =
            ok(&dpuctl(&env, Who::Operator, &["get", "route", "red/routes/default", "-o", "json"]));
        assert!(route.contains("\"nextHop\": \"192.0.2.253\""), "{route}");
        let ports = ok(&dpuctl(&env, Who::Operator, &["list", "ports"]));
        assert!(ports.contains("ports/p0") && ports.contains("APPLIED"), "{ports}");
        let counters = ok(&dpuctl(&env, Who::Host, &["switch", "ports"]));
        assert!(counters.contains("pf0vf0") && !counters.contains("p0 "), "{counters}");
        let refused = dpuctl(&env, Who::Host, &["delete", "bridge", "blue"]);
        assert!(String::from_utf8_lossy(&refused.stderr).contains("PERMISSION_DENIED"));
        ok(&dpuctl(&env, Who::Operator, &["delete", "static-mac", "blue/static-macs/printer"]));
        let gone = ok(&dpuctl(&env, Who::Operator, &["list", "static-macs"]));
        assert!(!gone.contains("printer"), "{gone}");
        env.kill_all();
    });
    lab.down().unwrap();
}

/// What [`create_all`] creates, as a manifest.
const MANIFEST: &str = r#"
kind: Bridge
name: blue
spec: {vlan: 10, vni: 100}
---
kind: Port
name: pf0vf0
spec: {mode: PORT_MODE_ACCESS, bridge: bridges/blue}
---
kind: Port
name: pf0vf1
spec: {mode: PORT_MODE_ACCESS, bridge: bridges/blue}
---
kind: Port
name: p0
spec: {mode: PORT_MODE_UPLINK}
---
kind: Vtep
name: underlay
spec:
  uplink: ports/p0
  localIp: 198.51.100.10
  localMac: "02:00:00:00:10:01"
  remotes: [{ip: 198.51.100.2, vnis: [100]}]
---
kind: Vrf
name: red
spec: {}
---
kind: Svi
name: blue-gw
spec: {bridge: bridges/blue, vrf: vrfs/red, address: 192.0.2.254/24, mac: "02:00:00:00:fe:01"}
---
kind: Route
name: red/routes/default
spec: {prefix: 0.0.0.0/0, nextHop: 192.0.2.253}
---
kind: StaticMac
name: blue/static-macs/printer
spec: {mac: "02:00:00:00:aa:01", port: ports/pf0vf1}
"#;

/// The MAC address of `eth0` in `role`.
fn mac_of(lab: &Lab, role: Role) -> String {
    let out = lab.run_in(role, ["cat", "/sys/class/net/eth0/address"]).unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The switch's instance id and the agent's last sync of it, from the agent's health.
async fn switch_health(client: &Client) -> (String, String, u64) {
    let health = client.system().get_health(GetHealthRequest {}).await.unwrap().into_inner();
    let s = health.services.iter().find(|s| s.service == "switch").unwrap();
    let synced = s.last_sync_time.as_ref().map(|t| format!("{}.{:09}", t.seconds, t.nanos));
    (s.instance_id.clone(), synced.unwrap_or_default(), s.restarts)
}

#[test]
fn two_vms_talk_through_an_api_made_bridge_and_an_agent_crash_does_not_stop_iperf3() {
    let lab = Lab::up(LabOptions::default()).unwrap();
    for (role, ip) in [(Role::Vm1, VM1_IP), (Role::Vm2, VM2_IP)] {
        lab.run_in(role, ["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"]).unwrap();
        // Like a VF, the VMs hand the switch MTU-sized frames (see dpu-switch/tests/lab.rs).
        lab.run_in(role, ["ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro", "off"])
            .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    in_dpu_namespace(&lab, async |lab| {
        let mut env = Env::with_switch();
        env.start().await;
        let op = env.client(Who::Operator).await;
        let mut sw = op.switch();
        sw.create_bridge(CreateBridgeRequest {
            bridge_id: "vms".into(),
            bridge: Some(bridge(10, None)),
        })
        .await
        .unwrap();
        for vf in ["pf0vf0", "pf0vf1"] {
            create_port(&op, vf, access_port("bridges/vms")).await.unwrap();
        }
        let names: BTreeSet<String> = ["bridges/vms", "ports/pf0vf0", "ports/pf0vf1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        wait_for("the bridge and ports APPLIED", async || {
            state(&op).await == (names.clone(), true)
        })
        .await;

        let pinged = (0..5).any(|_| {
            lab.exec_in(Role::Vm1, ["ping", "-n", "-c", "1", "-W", "1", VM2_IP])
                .unwrap()
                .status
                .success()
        });
        assert!(pinged, "vm1 cannot ping vm2 through the switch");
        let vf0 = sw
            .get_port_status(GetResourceRequest { name: "ports/pf0vf0".into() })
            .await
            .unwrap()
            .into_inner();
        assert!(vf0.rx_packets > 0 && vf0.tx_packets > 0, "{vf0:?}");
        let macs: BTreeSet<String> = sw
            .list_mac_entries(ListRequest::default())
            .await
            .unwrap()
            .into_inner()
            .entries
            .into_iter()
            .map(|e| e.mac)
            .collect();
        for role in [Role::Vm1, Role::Vm2] {
            let mac = mac_of(lab, role);
            assert!(macs.contains(&mac), "{mac} missing from the MAC table {macs:?}");
        }

        // Acceptance: iperf3 vm1 -> vm2 for 8 s; the agent is killed 3 s in and restarted.
        let (instance, synced_before, _) = switch_health(&op).await;
        let switch_pid = service_pid("dpu-switch", &env.switch_socket()).unwrap();
        let mut server = std::process::Command::new("iperf3");
        server.args(["-s", "-1", "-B", VM2_IP]);
        let quiet =
            SpawnOptions { stdin: Stdio::null(), stdout: Stdio::null(), stderr: Stdio::null() };
        let mut server = lab.spawn_in_with(Role::Vm2, server, quiet).unwrap();
        wait_for("the iperf3 server", async || {
            let out = lab.exec_in(Role::Vm2, ["ss", "-ltn"]).unwrap();
            String::from_utf8_lossy(&out.stdout).contains(":5201")
        })
        .await;
        let log = work.path().join("iperf3.json");
        let mut client = std::process::Command::new("iperf3");
        client
            .args(["-c", VM2_IP, "-t", "8", "-J", "--connect-timeout", "3000", "--logfile"])
            .arg(&log);
        let mut client = lab.spawn_in(Role::Vm1, client).unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        env.kill_agent();
        tokio::time::sleep(Duration::from_secs(1)).await;
        env.start().await;
        let status =
            client.wait_timeout(Duration::from_secs(25)).unwrap().expect("iperf3 did not finish");
        let _ = server.wait_timeout(Duration::from_secs(5));
        let report = std::fs::read_to_string(&log).unwrap();
        assert!(status.success(), "iperf3 failed across the agent restart: {report}");
        let v: serde_json::Value = serde_json::from_str(&report).unwrap();
        let bytes = v["end"]["sum_received"]["bytes"].as_f64().unwrap_or(0.0);
        assert!(bytes > 0.0, "nothing transferred: {report}");
        println!(
            "iperf3 across the agent restart: {:.0} Mbit/s, {bytes} bytes",
            v["end"]["sum_received"]["bits_per_second"].as_f64().unwrap_or(0.0) / 1e6
        );

        assert_eq!(
            service_pid("dpu-switch", &env.switch_socket()),
            Some(switch_pid),
            "the switch was restarted"
        );
        let op = env.client(Who::Operator).await;
        let (instance_after, synced_after, restarts) = switch_health(&op).await;
        assert_eq!((instance_after.as_str(), restarts), (instance.as_str(), 0));
        assert!(synced_after > synced_before, "the new agent did not re-sync the switch");
        wait_for("APPLIED after the restart", async || state(&op).await == (names.clone(), true))
            .await;
        env.kill_all();
    });
    lab.down().unwrap();
}
