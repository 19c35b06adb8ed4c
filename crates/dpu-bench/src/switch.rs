//! The switch's sans-IO pipeline in memory, one core: frames are copied into packet buffers
//! from a [`BufPool`] (as the worker does with the AF_PACKET backend), processed in bursts of
//! 256, and the output buffers returned to the pool. The peer is the copy alone (the same
//! pooled buffers, moved to an output list): the floor any copying software switch pays,
//! measured in the same run. Ratio = ours / peer.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dpu_switch::config::{
    BridgeConfig, Encap, PortConfig, PortMode, RemoteVtepConfig, SviConfig, SwitchConfig,
    VrfConfig, VtepConfig,
};
use dpu_switch::{BufPool, PacketBuf, PortId, Rx, Switch, Tx};
use dpu_wire::arp::{ArpOperation, ArpRepr};
use dpu_wire::ethernet::EthernetRepr;
use dpu_wire::ipv4::Ipv4Repr;
use dpu_wire::udp::UdpRepr;
use dpu_wire::{EtherType, IpProtocol, MacAddr};

use crate::report;

const BURST: usize = 256;
const FLOWS: u16 = 1024;
const SVI_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 1]);
const VTEP_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);

fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 1, n])
}

fn config() -> SwitchConfig {
    let port = |name: &str, mode| PortConfig { name: name.into(), mode, mtu: 1500, admin_up: true };
    SwitchConfig {
        ports: vec![
            port("a", PortMode::Access { vlan: 10 }),
            port("b", PortMode::Access { vlan: 10 }),
            port("c", PortMode::Access { vlan: 20 }),
            port("p0", PortMode::Uplink),
        ],
        bridges: vec![
            BridgeConfig {
                name: "b10".into(),
                vlan: Some(10),
                vni: Some(100),
                ageing_secs: 300,
                mac_limit: 4096,
                svi: Some(SviConfig {
                    vrf: "v".into(),
                    address: "192.0.2.254/24".into(),
                    mac: SVI_MAC.to_string(),
                    address6: None,
                }),
            },
            BridgeConfig {
                name: "b20".into(),
                vlan: Some(20),
                vni: None,
                ageing_secs: 300,
                mac_limit: 4096,
                svi: Some(SviConfig {
                    vrf: "v".into(),
                    address: "203.0.113.254/24".into(),
                    mac: "02:00:00:00:fe:02".into(),
                    address6: None,
                }),
            },
        ],
        vtep: Some(VtepConfig {
            uplink: "p0".into(),
            local_ip: Ipv4Addr::new(198, 51, 100, 10),
            prefix_len: 24,
            gateway: None,
            local_mac: Some(VTEP_MAC.to_string()),
            udp_checksum: false,
            ttl: 64,
            remotes: vec![RemoteVtepConfig {
                ip: Ipv4Addr::new(198, 51, 100, 2),
                vnis: vec![100],
                encap: Encap::Vxlan,
            }],
            learn_remotes: true,
        }),
        static_macs: vec![],
        // Room for the 1 M-flow scaling run.
        flow_cache_size: 1 << 21,
        vrfs: vec![VrfConfig { name: "v".into(), routes: vec![] }],
    }
}

/// A 64-octet Ethernet/IPv4/UDP frame (60 without FCS).
fn udp(src: MacAddr, dst: MacAddr, sip: Ipv4Addr, dip: Ipv4Addr, sport: u16) -> Vec<u8> {
    let eth = EthernetRepr { dst, src, vlans: &[], ethertype: EtherType::IPV4 };
    let mut f = vec![0u8; 60];
    let l3 = eth.emit(&mut f).unwrap_or(14);
    let _ = Ipv4Repr::new(sip, dip, IpProtocol::UDP, 26).emit(&mut f[l3..]);
    let _ = UdpRepr { src_port: sport, dst_port: 9 }.emit(&mut f[l3 + 20..], 18);
    f
}

fn arp_reply(smac: MacAddr, sip: Ipv4Addr, dmac: MacAddr, dip: Ipv4Addr) -> Vec<u8> {
    let eth = EthernetRepr { dst: dmac, src: smac, vlans: &[], ethertype: EtherType::ARP };
    let mut f = vec![0u8; 60];
    let _ = eth.emit(&mut f);
    let _ = ArpRepr {
        operation: ArpOperation::REPLY,
        sender_mac: smac,
        sender_ip: sip,
        target_mac: dmac,
        target_ip: dip,
    }
    .emit(&mut f[14..]);
    f
}

struct Rig {
    sw: Switch,
    ids: Vec<PortId>,
}

impl Rig {
    fn new() -> anyhow::Result<Rig> {
        let sw = Switch::new(config(), Instant::now())?;
        let ids = ["a", "b", "c", "p0"]
            .iter()
            .map(|n| sw.port_id(n).ok_or_else(|| anyhow::anyhow!("no port {n}")))
            .collect::<anyhow::Result<_>>()?;
        Ok(Rig { sw, ids })
    }

    fn feed(&mut self, port: usize, frames: &[Vec<u8>]) -> Vec<Tx> {
        let mut rx: Vec<Rx> = frames
            .iter()
            .map(|f| Rx { port: self.ids[port], buf: PacketBuf::from_frame(f) })
            .collect();
        let mut out = Vec::new();
        self.sw.process(Instant::now(), &mut rx, &mut out);
        out
    }
}

/// Measures the CPU time of the calling thread ([`crate::clock::thread_cpu_time`]), so a
/// figure is per busy core even when other processes share the machine.
struct Stopwatch {
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> anyhow::Result<Self> {
        Ok(Stopwatch { cpu: crate::clock::thread_cpu_time()? })
    }

    /// CPU time of this thread since `start`.
    fn elapsed(&self) -> anyhow::Result<Duration> {
        Ok(crate::clock::thread_cpu_time()?.saturating_sub(self.cpu))
    }
}

/// Rounds an in-memory figure is split into; the figure is its best round's rate. The
/// machine is shared: another tenant's burst of work slows a round (through the caches,
/// memory bandwidth, the host's scheduling) and never speeds one up, so the best round is
/// the closest to the pipeline's own cost. Ours and the copy floor are measured alike.
const ROUNDS: u32 = 10;

/// The best rate of [`ROUNDS`] rounds over `time`: each round calls `burst` (which returns
/// the frames it handled) until the round's share of `time` has passed. A round in which
/// the thread's CPU clock did not move has no rate and is left out (it cannot happen with
/// a clock counting nanoseconds; a clamped divisor would print an absurd one).
fn best_rate(time: Duration, mut burst: impl FnMut() -> u64) -> anyhow::Result<f64> {
    let round = time / ROUNDS;
    let mut best = None::<f64>;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let clock = Stopwatch::start()?;
        let mut n = 0u64;
        while start.elapsed() < round {
            n += burst();
        }
        let busy = clock.elapsed()?;
        if !busy.is_zero() {
            let rate = n as f64 / busy.as_secs_f64();
            best = Some(best.map_or(rate, |b| b.max(rate)));
        }
    }
    best.ok_or_else(|| anyhow::anyhow!("no round used any CPU time"))
}

/// Frames per second through `rig` from `port` (best round); `next` supplies each received
/// frame (copied into a pooled packet buffer, as the worker does).
fn run_pipeline(
    rig: &mut Rig,
    port: usize,
    time: Duration,
    mut next: impl FnMut(&mut BufPool) -> PacketBuf,
) -> anyhow::Result<f64> {
    let mut rx: Vec<Rx> = Vec::with_capacity(BURST);
    let mut out: Vec<Tx> = Vec::with_capacity(BURST * 2);
    let mut pool = BufPool::default();
    let id = rig.ids[port];
    best_rate(time, || {
        for _ in 0..BURST {
            rx.push(Rx { port: id, buf: next(&mut pool) });
        }
        rig.sw.process(Instant::now(), &mut rx, &mut out);
        for t in out.drain(..) {
            pool.put(t.buf);
        }
        BURST as u64
    })
}

/// The copy floor (best round): the same pooled buffers, moved straight to the output.
fn run_copy(frames: &[Vec<u8>], time: Duration) -> anyhow::Result<f64> {
    let mut out: Vec<Tx> = Vec::with_capacity(BURST);
    let mut pool = BufPool::default();
    let mut next = cycle(frames);
    best_rate(time, || {
        for _ in 0..BURST {
            out.push(Tx { port: PortId(1), buf: next(&mut pool) });
        }
        std::hint::black_box(&out);
        for t in out.drain(..) {
            pool.put(t.buf);
        }
        BURST as u64
    })
}

/// Cycles through `frames`.
fn cycle(frames: &[Vec<u8>]) -> impl FnMut(&mut BufPool) -> PacketBuf + '_ {
    let mut i = 0usize;
    move |pool| {
        let f = &frames[i % frames.len()];
        i += 1;
        pool.copy_of(f)
    }
}

/// Offset of the UDP ports in the frames of [`udp`] (Ethernet 14 + IPv4 20).
const UDP_PORTS: usize = 34;

/// Writes flow number `flow` (below 2^32) into `frame`'s UDP source and destination ports,
/// so that every number is a distinct flow key.
fn set_flow(frame: &mut [u8], flow: u32) {
    frame[UDP_PORTS..UDP_PORTS + 4].copy_from_slice(&flow.to_be_bytes());
}

/// Empties the flow cache (a tick far enough ahead that every entry is idle), untimed.
fn flush_flows(rig: &mut Rig) {
    let mut out = Vec::new();
    rig.sw.tick(Instant::now() + dpu_switch::FLOW_IDLE * 2, &mut out);
}

/// All-miss traffic: every frame a flow the cache has not seen, `template` with a fresh flow
/// number each time. The slow path runs in full (learning refresh, MAC lookup, install), so
/// entries are installed; the cache is emptied every `ROUND` frames outside the timed part
/// (so it never fills and refuses installs). Returns frames per second of pipeline time.
fn run_misses(rig: &mut Rig, template: &[u8], time: Duration) -> anyhow::Result<f64> {
    const ROUND: u32 = 1 << 16;
    let mut frame = template.to_vec();
    let mut rx: Vec<Rx> = Vec::with_capacity(BURST);
    let mut out: Vec<Tx> = Vec::with_capacity(BURST * 2);
    let id = rig.ids[0];
    let mut pool = BufPool::default();
    let mut busy = Duration::ZERO;
    let mut n = 0u64;
    flush_flows(rig);
    let start = Instant::now();
    while start.elapsed() < time {
        let clock = Stopwatch::start()?;
        for round in (0..ROUND).step_by(BURST) {
            for k in 0..BURST as u32 {
                set_flow(&mut frame, round + k);
                rx.push(Rx { port: id, buf: pool.copy_of(&frame) });
            }
            rig.sw.process(Instant::now(), &mut rx, &mut out);
            n += BURST as u64;
            for t in out.drain(..) {
                pool.put(t.buf);
            }
        }
        busy += clock.elapsed()?;
        flush_flows(rig);
    }
    anyhow::ensure!(!busy.is_zero(), "the misses used no CPU time");
    Ok(n as f64 / busy.as_secs_f64())
}

/// Frames per second of cached L2 forwarding with `flows` active flows, frames drawn
/// uniformly at random among them (so the cache's working set is all of them).
fn run_flows(rig: &mut Rig, template: &[u8], flows: u32, time: Duration) -> anyhow::Result<f64> {
    flush_flows(rig);
    let mut frame = template.to_vec();
    let mut rx: Vec<Rx> = Vec::with_capacity(BURST);
    let mut out: Vec<Tx> = Vec::with_capacity(BURST * 2);
    let id = rig.ids[0];
    for first in (0..flows).step_by(BURST) {
        for f in first..flows.min(first + BURST as u32) {
            set_flow(&mut frame, f);
            rx.push(Rx { port: id, buf: PacketBuf::from_frame(&frame) });
        }
        rig.sw.process(Instant::now(), &mut rx, &mut out);
        out.clear();
    }
    // xorshift64: cheap, uniform enough, reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    run_pipeline(rig, 0, time, move |pool| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        set_flow(&mut frame, ((x >> 32) % u64::from(flows)) as u32);
        pool.copy_of(&frame)
    })
}

fn ns_per_packet(pps: f64) -> f64 {
    1e9 / pps
}

/// An in-memory line: Mpps against the copy floor, with both costs in ns/packet.
fn report_vs_copy(name: &str, pps: f64, copy_pps: f64) {
    report::compared_with(
        name,
        pps / 1e6,
        "Mpps",
        "copy_only",
        copy_pps / 1e6,
        true,
        &[("ns_per_packet", ns_per_packet(pps)), ("peer_ns_per_packet", ns_per_packet(copy_pps))],
    );
}

/// `inner` as the remote VTEP `remote` sends it to ours: VXLAN (VNI 100) over IPv4/UDP.
fn vxlan_from_remote(inner: &[u8], remote: Ipv4Addr) -> anyhow::Result<Vec<u8>> {
    let u = dpu_wire::encap::Underlay {
        dst_mac: VTEP_MAC,
        src_mac: MacAddr([2, 0, 0, 0, 0, 0x20]),
        vlan: None,
        addrs: dpu_wire::encap::UnderlayAddrs::V4 {
            src: remote,
            dst: Ipv4Addr::new(198, 51, 100, 10),
        },
        ttl: 64,
        dscp: 0,
        src_port: 50000,
        udp_checksum_v4: false,
    };
    let t = dpu_wire::encap::Tunnel::Vxlan { vni: 100 };
    let hl = dpu_wire::encap::header_len(&u, &t);
    let mut buf = vec![0u8; hl + inner.len()];
    buf[hl..].copy_from_slice(inner);
    dpu_wire::encap::encapsulate(&mut buf, &u, &t, inner.len())?;
    Ok(buf)
}

/// The frames of one `_cached` line and the port they arrive on.
struct CachedSet {
    name: &'static str,
    port: usize,
    frames: Vec<Vec<u8>>,
}

/// The in-memory rig with its hosts learned and its VTEP and routed neighbour resolved,
/// and the frame sets of the `_cached` lines, whose flows a warm-up has installed.
fn cached_rig() -> anyhow::Result<(Rig, Vec<CachedSet>)> {
    let a_ip = Ipv4Addr::new(192, 0, 2, 1);
    let b_ip = Ipv4Addr::new(192, 0, 2, 2);
    let c_ip = Ipv4Addr::new(203, 0, 113, 3);
    let remote = Ipv4Addr::new(198, 51, 100, 2);
    let mut rig = Rig::new()?;
    // Learn b, c and a host behind the remote VTEP; resolve the VTEP and the routed neighbour.
    rig.feed(1, &[udp(mac(2), mac(1), b_ip, a_ip, 1)]);
    rig.feed(
        3,
        &[arp_reply(
            MacAddr([2, 0, 0, 0, 0, 0x20]),
            remote,
            VTEP_MAC,
            Ipv4Addr::new(198, 51, 100, 10),
        )],
    );
    rig.feed(
        2,
        &[arp_reply(mac(3), c_ip, MacAddr([2, 0, 0, 0, 0xfe, 2]), Ipv4Addr::new(203, 0, 113, 254))],
    );
    // A host behind the remote VTEP, learned from its first frame.
    let from_vtep = |sport| {
        let inner = udp(mac(9), mac(1), Ipv4Addr::new(192, 0, 2, 9), a_ip, sport);
        vxlan_from_remote(&inner, remote)
    };
    rig.feed(3, &[from_vtep(1)?]);

    let l2: Vec<Vec<u8>> = (0..FLOWS).map(|p| udp(mac(1), mac(2), a_ip, b_ip, 1000 + p)).collect();
    let encap: Vec<Vec<u8>> = (0..FLOWS)
        .map(|p| udp(mac(1), mac(9), a_ip, Ipv4Addr::new(192, 0, 2, 9), 1000 + p))
        .collect();
    let routed: Vec<Vec<u8>> =
        (0..FLOWS).map(|p| udp(mac(1), SVI_MAC, a_ip, c_ip, 1000 + p)).collect();
    // As many flows as the others: the inner UDP source port varies.
    let decap: Vec<Vec<u8>> = (0..FLOWS).map(|p| from_vtep(1000 + p)).collect::<Result<_, _>>()?;
    // Warm the flow cache: every flow of every set installed before any is timed.
    for (port, set) in [(0, &l2), (0, &encap), (0, &routed), (3, &decap)] {
        for chunk in set.chunks(BURST) {
            rig.feed(port, chunk);
        }
    }
    let sets = vec![
        CachedSet { name: "switch.l2_cached", port: 0, frames: l2 },
        CachedSet { name: "switch.vxlan_encap_cached", port: 0, frames: encap },
        CachedSet { name: "switch.vxlan_decap_cached", port: 3, frames: decap },
        CachedSet { name: "switch.l3_cached", port: 0, frames: routed },
    ];
    Ok((rig, sets))
}

/// Hits / lookups over the timed `_cached` runs.
const HIT_RATIO: &str = "switch.flow_cache_hit_ratio";

/// Whether the `_cached` line `name` runs: it prints its own line and feeds [`HIT_RATIO`].
fn cached_runs(only: &[String], name: &str) -> bool {
    report::selected(only, name) || report::selected(only, HIT_RATIO)
}

/// Whether [`HIT_RATIO`] is printed: when selected (which runs every `_cached` line).
fn hit_ratio_printed(only: &[String]) -> bool {
    report::selected(only, HIT_RATIO)
}

/// The four figures [`report_veth`] prints for each forwarder.
const VETH_FIGURES: [&str; 4] = ["pps", "iperf", "ping_rtt", "iperf_frame_octets"];

/// The line of figure `what` of our forwarder's variant `tag` against the bridge.
fn veth_name(tag: &str, what: &str) -> String {
    format!("switch.veth_{tag}{what}_vs_linux_bridge")
}

/// The bridge's own two configurations, compared by the lab.
const BRIDGE_GRO_LINE: &str = "switch.linux_bridge_gro_vs_plain_iperf";

/// Every line [`lab`] prints: the bridge's own, and [`VETH_FIGURES`] of each variant.
fn lab_lines() -> Vec<String> {
    let veth = LAB_VARIANTS.iter().flat_map(|v| VETH_FIGURES.map(|w| veth_name(v.tag, w)));
    std::iter::once(BRIDGE_GRO_LINE.to_owned()).chain(veth).collect()
}

/// Whether the lab runs: when one of its lines is selected.
fn lab_runs(only: &[String]) -> bool {
    report::any_selected(only, lab_lines())
}

/// Runs the figures whose names contain one of `only` (all when empty): the in-memory ones,
/// then the lab's when one of its lines is selected ([`lab_lines`]).
pub async fn run(
    bin_dir: &std::path::Path,
    scale_down: usize,
    only: &[String],
) -> anyhow::Result<()> {
    let wants = |name: &str| report::selected(only, name);
    let time = Duration::from_millis(3000 / scale_down.max(1) as u64);
    let (mut rig, sets) = cached_rig()?;
    let l2 = &sets[0].frames;
    let peer = run_copy(l2, time)?;
    // The hit ratio counts the timed runs alone, not the warm-up's installs.
    let before = rig.sw.flow_stats();
    for set in &sets {
        if !cached_runs(only, set.name) {
            continue;
        }
        let pps = run_pipeline(&mut rig, set.port, time, cycle(&set.frames))?;
        if wants(set.name) {
            report_vs_copy(set.name, pps, peer);
        }
    }
    if hit_ratio_printed(only) {
        let st = rig.sw.flow_stats();
        let (hits, misses) = (st.hits - before.hits, st.misses - before.misses);
        report::value(HIT_RATIO, hits as f64 / (hits + misses) as f64, "ratio");
    }
    if wants("switch.l2_miss") {
        let pps = run_misses(&mut rig, &l2[0], time)?;
        report_vs_copy("switch.l2_miss", pps, peer);
    }
    let mut base = None;
    let scaling = [
        ("switch.flows_1k", 1_000),
        ("switch.flows_100k", 100_000),
        ("switch.flows_1m", 1_000_000),
    ];
    // The 1 K line is the others' base: it runs whenever one of them does.
    let any_scaling = scaling.iter().any(|(name, _)| wants(name));
    for (name, flows) in scaling {
        if !(wants(name) || any_scaling && base.is_none()) {
            continue;
        }
        let ns = ns_per_packet(run_flows(&mut rig, &l2[0], flows, time)?);
        let extra = [("mpps", 1e3 / ns)];
        match base {
            None => {
                report::value_with(name, ns, "ns/packet", &extra);
                base = Some(ns);
            }
            Some(b) => report::compared_with(name, ns, "ns/packet", "flows_1k", b, false, &extra),
        }
    }
    flush_flows(&mut rig);
    if !lab_runs(only) {
        return Ok(());
    }
    let secs = (10 / scale_down.max(1)).max(1) as u32;
    tokio::task::block_in_place(|| lab(bin_dir, secs, only))
}

/// Received bits per second of a bounded iperf3 TCP transfer vm1 → vm2 (192.0.2.2).
fn iperf(lab: &dpu_lab::Lab, secs: u32) -> anyhow::Result<f64> {
    use dpu_lab::Role;
    let mut srv = std::process::Command::new("iperf3");
    srv.args(["-s", "-1", "-B", "192.0.2.2"]);
    let mut srv = lab.spawn_in_with(Role::Vm2, srv, dpu_lab::SpawnOptions::piped())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = lab.exec_in(Role::Vm2, ["ss", "-ltn"])?;
        if String::from_utf8_lossy(&out.stdout).contains(":5201") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "iperf3 server did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = lab.exec_in_timeout(
        Role::Vm1,
        ["iperf3", "-c", "192.0.2.2", "-t", &secs.to_string(), "-J", "--connect-timeout", "3000"],
        Duration::from_secs(u64::from(secs) + 20),
    )?;
    let _ = srv.wait_timeout(Duration::from_secs(5));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["end"]["sum_received"]["bits_per_second"].as_f64().ok_or_else(|| {
        anyhow::anyhow!("iperf3 gave no result: {}", String::from_utf8_lossy(&out.stdout))
    })
}

/// Frames vm2's `eth0` has received so far.
fn vm2_rx_packets(lab: &dpu_lab::Lab) -> anyhow::Result<u64> {
    let out = lab.exec_in(dpu_lab::Role::Vm2, ["ip", "-s", "-j", "link", "show", "dev", "eth0"])?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v[0]["stats64"]["rx"]["packets"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no rx counter: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Small-packet rate vm1 → vm2: the UDP blaster (`dpu-bench udp-blast`, 18-octet payloads:
/// 64-octet frames on the wire) sends as fast as it can for `secs`; the rate is what vm2's
/// interface received over the blaster's sending time. A sink bound to the port keeps vm2
/// from answering with ICMP port unreachable.
fn udp_pps(lab: &dpu_lab::Lab, bin_dir: &std::path::Path, secs: u32) -> anyhow::Result<f64> {
    use dpu_lab::Role;
    let exe = bin_dir.join("dpu-bench");
    let mut sink = std::process::Command::new(&exe);
    sink.args(["udp-sink", "--addr", "192.0.2.2:9", "--secs", &(secs + 5).to_string()]);
    let mut sink = lab.spawn_in_with(Role::Vm2, sink, dpu_lab::SpawnOptions::piped())?;
    std::thread::sleep(Duration::from_millis(300));
    let before = vm2_rx_packets(lab)?;
    let out = lab.exec_in_timeout(
        Role::Vm1,
        [
            exe.to_string_lossy().as_ref(),
            "udp-blast",
            "--addr",
            "192.0.2.2:9",
            "--secs",
            &secs.to_string(),
        ],
        Duration::from_secs(u64::from(secs) + 10),
    )?;
    // Frames still in the switch's queues arrive within a moment.
    std::thread::sleep(Duration::from_millis(200));
    let after = vm2_rx_packets(lab)?;
    let _ = sink.stop(Duration::from_secs(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| anyhow::anyhow!("udp-blast: {e}: {}", String::from_utf8_lossy(&out.stderr)))?;
    let sending = v["secs"].as_f64().ok_or_else(|| anyhow::anyhow!("udp-blast gave no time"))?;
    Ok(after.saturating_sub(before) as f64 / sending)
}

/// Mean round-trip time vm1 → vm2 in milliseconds: 100 echoes 10 ms apart (bounded: ping's
/// own deadline), after one untimed echo that resolves the neighbour and teaches the switch.
fn ping_rtt_ms(lab: &dpu_lab::Lab) -> anyhow::Result<f64> {
    use dpu_lab::Role;
    let _ = lab.exec_in(Role::Vm1, ["ping", "-n", "-c", "1", "-W", "1", "192.0.2.2"])?;
    let out = lab.exec_in_timeout(
        Role::Vm1,
        ["ping", "-n", "-q", "-c", "100", "-i", "0.01", "-w", "10", "192.0.2.2"],
        Duration::from_secs(15),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rtt min/avg/max/mdev = 0.031/0.047/0.112/0.012 ms"
    text.lines()
        .find_map(|l| l.split_once(" = ")?.1.split('/').nth(1)?.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("ping gave no round-trip time: {text}"))
}

/// What one forwarder achieved between the VMs.
struct VethFigures {
    pps: f64,
    tcp_bps: f64,
    rtt_ms: f64,
    /// Mean octets per frame vm2's `eth0` received during the TCP stream: how much a
    /// coalesced super-frame (ours) or GRO aggregate (the bridge's) holds.
    tcp_frame_octets: f64,
}

fn measure_veth(
    lab: &dpu_lab::Lab,
    bin_dir: &std::path::Path,
    secs: u32,
) -> anyhow::Result<VethFigures> {
    let rtt_ms = ping_rtt_ms(lab)?;
    let pps = udp_pps(lab, bin_dir, secs)?;
    let frames_before = vm2_rx_packets(lab)?;
    let tcp_bps = iperf(lab, secs)?;
    let frames = vm2_rx_packets(lab)?.saturating_sub(frames_before).max(1);
    let tcp_frame_octets = tcp_bps / 8.0 * f64::from(secs) / frames as f64;
    Ok(VethFigures { pps, tcp_bps, rtt_ms, tcp_frame_octets })
}

/// `dpu-switch` between the two representors, as it runs by default with `options` added to
/// its command line.
fn measure_ours(
    lab: &dpu_lab::Lab,
    bin_dir: &std::path::Path,
    secs: u32,
    options: &[&str],
) -> anyhow::Result<VethFigures> {
    let dir = std::env::temp_dir().join(format!("dpu-bench-{}-ours", lab.prefix()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("switch.toml");
    std::fs::write(
        &config,
        "[[ports]]\nname = \"pf0vf0\"\nmode = \"access\"\nvlan = 10\n\n[[ports]]\nname = \"pf0vf1\"\n\
         mode = \"access\"\nvlan = 10\n\n[[bridges]]\nname = \"br10\"\nvlan = 10\n",
    )?;
    let mut cmd = std::process::Command::new(bin_dir.join("dpu-switch"));
    cmd.arg("--config").arg(&config).args(["--log-level", "warn"]);
    cmd.args(options);
    let mut sw = lab.spawn_in(dpu_lab::Role::Dpu, cmd)?;
    std::thread::sleep(Duration::from_millis(800));
    let figures = measure_veth(lab, bin_dir, secs);
    let _ = sw.stop(Duration::from_secs(3));
    let _ = std::fs::remove_dir_all(&dir);
    figures
}

/// The [`VETH_FIGURES`] lines of `ours` against the bridge that `only` selects; `tag` names
/// the variant when it is not the default (`switch.veth_v3_pps_vs_linux_bridge`).
fn report_veth(only: &[String], tag: &str, ours: &VethFigures, bridge: &VethFigures) {
    let peer = "linux_bridge";
    let (tcp, peer_tcp) = (ours.tcp_bps / 1e9, bridge.tcp_bps / 1e9);
    let (octets, peer_octets) = (ours.tcp_frame_octets, bridge.tcp_frame_octets);
    // In the order of VETH_FIGURES.
    let figures = [
        (ours.pps / 1e6, "Mpps", bridge.pps / 1e6, true),
        (tcp, "Gbit/s", peer_tcp, true),
        (ours.rtt_ms, "ms", bridge.rtt_ms, false),
        (octets, "octets", peer_octets, true),
    ];
    for (what, (value, unit, peer_value, higher_is_better)) in VETH_FIGURES.into_iter().zip(figures)
    {
        let name = veth_name(tag, what);
        if report::selected(only, &name) {
            report::compared(&name, value, unit, peer, peer_value, higher_is_better);
        }
    }
}

/// One configuration of ours in the lab.
struct LabVariant {
    /// In the lines' names: `switch.veth_{tag}pps_vs_linux_bridge`.
    tag: &'static str,
    /// Added to `dpu-switch`'s command line.
    options: &'static [&'static str],
    /// GRO is turned off on the representors before it runs: the variant leaves the ports'
    /// GRO as it finds it (or turns it on itself from there).
    ports_gro_off: bool,
}

/// Ours by default first (measured in rounds alternating with the bridge), then the
/// variants, in the order they run.
const LAB_VARIANTS: [LabVariant; 7] = [
    LabVariant { tag: "", options: &[], ports_gro_off: false },
    LabVariant {
        tag: "pinned2_",
        options: &["--workers", "2", "--pin-workers"],
        ports_gro_off: false,
    },
    LabVariant { tag: "v3_", options: &["--rx-ring", "v3"], ports_gro_off: false },
    LabVariant { tag: "nospin_", options: &["--rx-spin-us", "0"], ports_gro_off: false },
    LabVariant { tag: "noportgro_", options: &["--no-port-gro"], ports_gro_off: true },
    LabVariant {
        tag: "uncoalesced_",
        options: &["--no-port-gro", "--no-tcp-coalescing"],
        ports_gro_off: true,
    },
    LabVariant { tag: "nice0_", options: &["--worker-nice", "0"], ports_gro_off: true },
];

/// Whether `only` selects a line of `variant`, which then runs.
fn variant_runs(only: &[String], variant: &LabVariant) -> bool {
    report::any_selected(only, VETH_FIGURES.map(|w| veth_name(variant.tag, w)))
}

/// Rounds of the bridge with GRO and ours by default, alternated: conditions on the shared
/// machine drift over the minutes a lab run takes, and each side's best round is compared.
const LAB_ROUNDS: usize = 3;

impl VethFigures {
    /// The best of `runs`, figure by figure (the frame size diagnostic from the fastest
    /// TCP run).
    fn best(runs: &[VethFigures]) -> anyhow::Result<VethFigures> {
        let fastest = runs
            .iter()
            .max_by(|a, b| a.tcp_bps.total_cmp(&b.tcp_bps))
            .ok_or_else(|| anyhow::anyhow!("no runs"))?;
        Ok(VethFigures {
            pps: runs.iter().map(|r| r.pps).fold(0.0, f64::max),
            tcp_bps: fastest.tcp_bps,
            rtt_ms: runs.iter().map(|r| r.rtt_ms).fold(f64::INFINITY, f64::min),
            tcp_frame_octets: fastest.tcp_frame_octets,
        })
    }
}

/// The Linux bridge between the two representors, GRO on them or off, measured; the bridge
/// is removed and GRO turned off again afterwards, also when the measurement failed.
fn measure_bridge(
    lab: &dpu_lab::Lab,
    bin_dir: &std::path::Path,
    secs: u32,
    gro: bool,
) -> anyhow::Result<VethFigures> {
    use dpu_lab::Role;
    let figures = (|| {
        lab.run_in(Role::Dpu, ["ip", "link", "add", "br0", "type", "bridge"])?;
        for p in REPRESENTORS {
            lab.run_in(Role::Dpu, ["ip", "link", "set", p, "master", "br0"])?;
        }
        lab.run_in(Role::Dpu, ["ip", "link", "set", "br0", "up"])?;
        set_gro(lab, if gro { "on" } else { "off" })?;
        measure_veth(lab, bin_dir, secs)
    })();
    let _ = lab.run_in(Role::Dpu, ["ip", "link", "del", "br0"]);
    set_gro(lab, "off")?;
    figures
}

/// Turns GRO on or off (`state`) on both representors.
fn set_gro(lab: &dpu_lab::Lab, state: &str) -> anyhow::Result<()> {
    for p in REPRESENTORS {
        lab.run_in(dpu_lab::Role::Dpu, ["ethtool", "-K", p, "gro", state])?;
    }
    Ok(())
}

/// The lab's two representors, which the switch or the bridge connects.
const REPRESENTORS: [&str; 2] = ["pf0vf0", "pf0vf1"];

/// Through the `dpu-switch` binary (AF_PACKET) between the lab's two VMs, against the Linux
/// kernel bridge between the same representors, same run, same VMs (TSO/GSO off, as behind a
/// VF): small-packet rate, one TCP stream and the ping round trip. The bridge is measured
/// without and with GRO on the representors, ours as it runs by default (one worker,
/// TPACKET_V2 ring, GRO on its ports, TCP segments coalesced); the bridge with GRO and ours
/// alternate for [`LAB_ROUNDS`] rounds, each side's best round counts, and the bridge's
/// figures are the better of its two configurations. Then the variants with a line `only`
/// selects, once each: two
/// pinned workers, TPACKET_V3, without the ports' GRO (`--no-port-gro`), with neither GRO nor
/// coalescing, with the workers sleeping at once after a burst instead of checking their
/// rings for 50 µs first (`--rx-spin-us 0`), and with the workers at nice 0 instead of -10
/// (`--worker-nice 0`). Needs root, iperf3 and ethtool.
pub fn lab(bin_dir: &std::path::Path, secs: u32, only: &[String]) -> anyhow::Result<()> {
    use dpu_lab::{Lab, LabOptions, Role};
    let base = dpu_lab::BENCH_PREFIX_BASE.into();
    let lab = Lab::up(LabOptions { prefix_base: base, ..LabOptions::default() })?;
    for (role, addr) in [(Role::Vm1, "192.0.2.1/24"), (Role::Vm2, "192.0.2.2/24")] {
        lab.run_in(role, ["ip", "addr", "add", addr, "dev", "eth0"])?;
        lab.run_in(role, ["ethtool", "-K", "eth0", "tso", "off", "gso", "off", "gro", "off"])?;
    }
    let bridge_plain = measure_bridge(&lab, bin_dir, secs, false)?;
    // GRO on the representors (veth runs NAPI for it since Linux 5.13) lets the bridge
    // forward merged segments too. Ours turns GRO on for its ports itself unless told not to
    // (`--no-port-gro`); `measure_bridge` sets it either way.
    let (mut bridge_gro, mut default) = (Vec::new(), Vec::new());
    for round in 1..=LAB_ROUNDS {
        let (b, o) = (
            measure_bridge(&lab, bin_dir, secs, true)?,
            measure_ours(&lab, bin_dir, secs, LAB_VARIANTS[0].options)?,
        );
        // Each round on stderr, outside the JSON lines: how far the machine drifted.
        eprintln!(
            "switch lab round {round}: Linux bridge (GRO) {:.2} Gbit/s {:.3} Mpps, ours {:.2} Gbit/s {:.3} Mpps",
            b.tcp_bps / 1e9,
            b.pps / 1e6,
            o.tcp_bps / 1e9,
            o.pps / 1e6
        );
        bridge_gro.push(b);
        default.push(o);
    }
    let (bridge_gro, default) = (VethFigures::best(&bridge_gro)?, VethFigures::best(&default)?);
    if report::selected(only, BRIDGE_GRO_LINE) {
        report::compared(
            BRIDGE_GRO_LINE,
            bridge_gro.tcp_bps / 1e9,
            "Gbit/s",
            "linux_bridge",
            bridge_plain.tcp_bps / 1e9,
            true,
        );
    }
    // Ours is compared with the better of the bridge's two configurations, figure by figure.
    let bridge = VethFigures {
        pps: bridge_plain.pps.max(bridge_gro.pps),
        tcp_bps: bridge_plain.tcp_bps.max(bridge_gro.tcp_bps),
        rtt_ms: bridge_plain.rtt_ms.min(bridge_gro.rtt_ms),
        tcp_frame_octets: bridge_gro.tcp_frame_octets,
    };
    report_veth(only, LAB_VARIANTS[0].tag, &default, &bridge);
    // Only the variants with a selected line.
    for variant in LAB_VARIANTS.iter().skip(1).filter(|v| variant_runs(only, v)) {
        if variant.ports_gro_off {
            set_gro(&lab, "off")?;
        }
        let figures = measure_ours(&lab, bin_dir, secs, variant.options)?;
        report_veth(only, variant.tag, &figures, &bridge);
    }
    Ok(())
}

/// `dpu-bench udp-blast`: sends 18-octet UDP datagrams (64-octet frames) to `addr` as fast as
/// one socket can for `secs`, then prints `{"sent":..,"errors":..,"secs":..}`. Bounded by
/// the duration; send errors (a full queue) are counted, not fatal.
pub fn udp_blast(addr: std::net::SocketAddr, secs: u32) -> anyhow::Result<()> {
    let sock = std::net::UdpSocket::bind(("0.0.0.0", 0))?;
    sock.connect(addr)?;
    let payload = [0u8; 18];
    // One datagram first, untimed: resolves the neighbour and lets the switch learn.
    let _ = sock.send(&payload);
    std::thread::sleep(Duration::from_millis(200));
    let time = Duration::from_secs(u64::from(secs));
    let (mut sent, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < time {
        for _ in 0..1024 {
            match sock.send(&payload) {
                Ok(_) => sent += 1,
                Err(_) => errors += 1,
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"sent": sent, "errors": errors, "secs": secs}));
    Ok(())
}

/// `dpu-bench udp-sink`: binds `addr` for `secs` without reading: once its receive buffer is
/// full the kernel drops further datagrams at the socket (counted in `RcvbufErrors`), so the
/// receiving VM's cost per frame stays the stack's, not an application's wake-ups, and no
/// ICMP port unreachable goes back.
pub fn udp_sink(addr: std::net::SocketAddr, secs: u32) -> anyhow::Result<()> {
    let _sock = std::net::UdpSocket::bind(addr)?;
    std::thread::sleep(Duration::from_secs(u64::from(secs)));
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The rig's switch must take the bench's configuration: a bound the switch gains
    /// later would otherwise show only when someone runs the bench.
    #[test]
    fn the_switch_takes_the_benchs_configuration() {
        assert_eq!(super::config().validate().map_err(|e| e.to_string()), Ok(()));
    }

    fn only(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// The lab runs when any line it prints is selected, by a part of its name or all of
    /// it, and only then.
    #[test]
    fn the_lab_runs_for_any_of_its_lines() {
        for sel in [
            &[][..],
            &["veth_pps"],
            &["switch.veth_pps_vs_linux_bridge"],
            &["linux_bridge_gro_vs_plain_iperf"],
            &["veth_nice0_"],
            &["l2_cached", "veth_v3_ping_rtt"],
        ] {
            assert!(super::lab_runs(&only(sel)), "{sel:?} should run the lab");
        }
        for sel in [&["l2_cached"][..], &["flows_1m"], &["flow_cache_hit_ratio"]] {
            assert!(!super::lab_runs(&only(sel)), "{sel:?} should not run the lab");
        }
        assert_eq!(super::lab_lines().len(), 1 + 4 * super::LAB_VARIANTS.len());
    }

    /// A lab variant runs only when one of its lines is selected.
    #[test]
    fn a_lab_variant_runs_for_its_own_lines() {
        let runs = |sel: &[&str]| -> Vec<&str> {
            let sel = only(sel);
            super::LAB_VARIANTS
                .iter()
                .filter(|v| super::variant_runs(&sel, v))
                .map(|v| v.tag)
                .collect()
        };
        assert_eq!(runs(&["veth_v3_iperf"]), ["v3_"]);
        assert_eq!(runs(&["veth_pps"]), [""]);
        assert_eq!(runs(&["linux_bridge_gro_vs_plain_iperf"]), Vec::<&str>::new());
        assert_eq!(runs(&[]).len(), super::LAB_VARIANTS.len());
    }

    /// The hit ratio is printed when selected, after all four `_cached` runs it counts;
    /// not when another line is selected (it would count nothing).
    #[test]
    fn the_hit_ratio_is_printed_when_its_runs_ran() {
        let cached = [
            "switch.l2_cached",
            "switch.vxlan_encap_cached",
            "switch.vxlan_decap_cached",
            "switch.l3_cached",
        ];
        let sel = only(&["flow_cache_hit_ratio"]);
        assert!(super::hit_ratio_printed(&sel));
        assert!(cached.iter().all(|n| super::cached_runs(&sel, n)));
        for sel in [only(&["flows_1m"]), only(&["l2_cached"]), only(&["veth_pps"])] {
            assert!(!super::hit_ratio_printed(&sel), "{sel:?}");
        }
        let sel = only(&["flows_1m"]);
        assert!(!cached.iter().any(|n| super::cached_runs(&sel, n)));
        assert!(super::hit_ratio_printed(&[]));
    }

    /// Feeds `frames` from `port` in bursts; the flow cache's (entries, misses) it added.
    fn installs(rig: &mut super::Rig, port: usize, frames: &[Vec<u8>]) -> (usize, u64) {
        let before = rig.sw.flow_stats();
        for chunk in frames.chunks(super::BURST) {
            rig.feed(port, chunk);
        }
        let after = rig.sw.flow_stats();
        (after.entries - before.entries, after.misses - before.misses)
    }

    /// Every `_cached` line cycles through [`super::FLOWS`] distinct flows (each frame of
    /// its set installs an entry of its own into an empty cache), all installed by the
    /// warm-up before any is timed (feeding them again misses nothing).
    #[test]
    fn each_cached_line_cycles_through_flows_installed_beforehand() {
        let (mut rig, sets) = super::cached_rig().unwrap();
        for set in &sets {
            let (_, misses) = installs(&mut rig, set.port, &set.frames);
            assert_eq!(misses, 0, "{}: flows missing after the warm-up", set.name);
        }
        super::flush_flows(&mut rig);
        for set in &sets {
            let (entries, _) = installs(&mut rig, set.port, &set.frames);
            assert_eq!(entries, usize::from(super::FLOWS), "{}: distinct flows", set.name);
        }
    }

    /// The stopwatch counts CPU time to well under a round's length: a 2 ms spin reads
    /// 2 ms within 10 % (the best of a few tries, as the thread may be preempted during
    /// one; a clock updated only at scheduler ticks reads 0 or a whole tick every time).
    #[test]
    fn the_stopwatch_times_a_short_spin() {
        let spin = std::time::Duration::from_millis(2);
        let mut readings = Vec::new();
        for _ in 0..5 {
            let clock = super::Stopwatch::start().unwrap();
            let start = std::time::Instant::now();
            while start.elapsed() < spin {
                std::hint::spin_loop();
            }
            let cpu = clock.elapsed().unwrap().as_secs_f64();
            readings.push(cpu);
            if (cpu / spin.as_secs_f64() - 1.0).abs() <= 0.1 {
                return;
            }
        }
        panic!("no 2 ms spin read within 10 %: {readings:?} s");
    }
}
