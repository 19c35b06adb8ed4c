//! The fuzzing entry point: arbitrary bytes become bursts of frames on every kind of port of a
//! switch with VLANs, a trunk and a VXLAN uplink. Nothing may panic, and every frame that
//! comes out must be one the switch could send.

use std::net::Ipv4Addr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::config::{
    BridgeConfig, Encap, PortConfig, PortMode, RemoteVtepConfig, RouteConfig, SviConfig,
    SwitchConfig, VrfConfig, VtepConfig,
};
use crate::packet::{PacketBuf, PortId, Rx};
use crate::switch::Switch;

/// The MAC the fuzz switch's VTEP owns (frames to it reach the decapsulation path).
pub const FUZZ_VTEP_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0x10];

fn config() -> SwitchConfig {
    let port = |name: &str, mode| PortConfig { name: name.into(), mode, mtu: 1500, admin_up: true };
    SwitchConfig {
        ports: vec![
            port("a", PortMode::Access { vlan: 10 }),
            port("b", PortMode::Access { vlan: 20 }),
            port("t", PortMode::Trunk { vlans: vec![10, 20], native_vlan: Some(10) }),
            port("p0", PortMode::Uplink),
        ],
        bridges: vec![
            BridgeConfig {
                name: "b10".into(),
                vlan: Some(10),
                vni: Some(100),
                ageing_secs: 5,
                mac_limit: 64,
                svi: Some(SviConfig {
                    vrf: "v".into(),
                    address: "192.0.2.254/24".into(),
                    mac: "02:00:00:00:fe:01".into(),
                    address6: Some("2001:db8:10::1/64".into()),
                }),
            },
            BridgeConfig {
                name: "b20".into(),
                vlan: Some(20),
                vni: Some(200),
                ageing_secs: 5,
                mac_limit: 64,
                svi: Some(SviConfig {
                    vrf: "v".into(),
                    address: "203.0.113.254/24".into(),
                    mac: "02:00:00:00:fe:02".into(),
                    address6: Some("2001:db8:20::1/64".into()),
                }),
            },
        ],
        vtep: Some(VtepConfig {
            uplink: "p0".into(),
            local_ip: Ipv4Addr::new(198, 51, 100, 10),
            prefix_len: 24,
            gateway: Some(Ipv4Addr::new(198, 51, 100, 1)),
            local_mac: Some(dpu_wire::MacAddr(FUZZ_VTEP_MAC).to_string()),
            udp_checksum: true,
            ttl: 64,
            remotes: vec![
                RemoteVtepConfig {
                    ip: Ipv4Addr::new(198, 51, 100, 2),
                    vnis: vec![100, 200],
                    encap: Encap::Vxlan,
                },
                RemoteVtepConfig {
                    ip: Ipv4Addr::new(203, 0, 113, 9),
                    vnis: vec![100],
                    encap: Encap::Geneve,
                },
            ],
            learn_remotes: true,
        }),
        static_macs: vec![],
        flow_cache_size: 256,
        vrfs: vec![VrfConfig {
            name: "v".into(),
            routes: vec![
                RouteConfig {
                    prefix: "198.51.100.0/24".into(),
                    next_hop: Ipv4Addr::new(203, 0, 113, 1).into(),
                },
                RouteConfig {
                    prefix: "2001:db8:99::/48".into(),
                    next_hop: std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 9).into(),
                },
            ],
        }],
    }
}

/// Splits `data` into `[hdr, len_hi, len_lo, frame...]` records (the last one takes the
/// rest); yields `(hdr, frame)`. Bounded by the input: every record consumes a byte.
fn records(data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut rest = data;
    std::iter::from_fn(move || {
        let (&hdr, tail) = rest.split_first()?;
        let (len, body) = match tail {
            [hi, lo, body @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), body),
            _ => (tail.len(), &[][..]),
        };
        let (frame, next) = body.split_at(len.min(body.len()));
        rest = next;
        Some((hdr, frame))
    })
}

/// The AF_PACKET backend's parsers: `data` as a TPACKET_V2 frame slot and as a TPACKET_V3
/// block, then as a send burst (records as in [`run_pipeline`]; TCP/UDP checksums completed
/// so that streams can merge, unless the record's header has bit 5 set: left to offload, and
/// the offload header asked for must point inside the frame) planned and merged by the TCP
/// coalescer; each record also as a received frame with a `virtio_net_hdr`. Nothing may
/// panic; the runs cover the burst in order, a super-frame's IPv4 length is its own, and a
/// received super-frame cuts into segments carrying all its payload. Returns
/// how many frames went into super-frames.
pub fn run_io_parsers(data: &[u8]) -> usize {
    use crate::io::{afpacket, gso};
    if let Some(f) = afpacket::parse_frame(data) {
        assert!(f.data.len() <= data.len());
    }
    afpacket::parse_block(data, |f| assert!(f.data.len() <= data.len()));
    // A record whose header has bit 5 set is a frame whose checksum is left to offload.
    let mut frames: Vec<(Vec<u8>, bool)> =
        records(data).map(|(h, f)| (f.to_vec(), h & 0x20 != 0)).collect();
    for (f, pending) in &mut frames {
        if !*pending {
            crate::offload::complete_l4_checksum(f);
        } else if let Some(h) = gso::checksum_header(f) {
            let start = usize::from(u16::from_ne_bytes([h[6], h[7]]));
            assert!(start + usize::from(u16::from_ne_bytes([h[8], h[9]])) + 2 <= f.len());
        }
    }
    // Each record also as a received frame behind a `virtio_net_hdr` made from its header
    // octet (bit 0: checksum pending; bits 1-3: segmentation type; bits 4-7: segment size):
    // what is accepted as a super-frame must cut into segments carrying its payload.
    for (hdr, frame) in records(data) {
        let mut vnet = [0u8; gso::VNET_HDR_LEN];
        vnet[0] = hdr & 1;
        vnet[1] = [0, 1, 3, 4, 5, 0x81, 0x84, 0xff][usize::from((hdr >> 1) & 7)];
        vnet[4..6].copy_from_slice(&(u16::from(hdr >> 4) * 100).to_ne_bytes());
        let mut rx = Vec::new();
        afpacket::accept(PortId(0), PacketBuf::from_frame(frame), &vnet, &mut rx);
        for r in &rx {
            let Some(g) = r.buf.gso() else { continue };
            let mut payload = 0;
            assert!(crate::offload::segment(&r.buf, |s| {
                let min = crate::offload::MIN_SEGMENT;
                let seg = crate::offload::tcp_gso(s.frame(), min, false).expect("a TCP segment");
                assert!(seg.payload <= u32::from(g.size));
                payload += seg.payload;
            }));
            assert_eq!(payload, g.payload);
        }
    }
    let slices: Vec<gso::Outgoing<'_>> = frames
        .iter()
        .map(|(f, p)| gso::Outgoing { frame: f, csum_pending: *p, super_frame: false })
        .collect();
    let mut runs = Vec::new();
    gso::plan(&slices, &mut runs);
    let mut next = 0;
    let mut merged = 0;
    let mut out = Vec::new();
    for r in &runs {
        assert!(r.first == next && r.count >= 1);
        next += r.count;
        if r.count > 1 {
            let segments = &slices[r.first..r.first + r.count];
            assert!(gso::merge(segments, &mut out).is_some(), "a planned run did not merge");
            assert_eq!(usize::from(u16::from_be_bytes([out[16], out[17]])), out.len() - 14);
            merged += r.count;
        }
    }
    assert_eq!(next, slices.len());
    merged
}

/// Splits `data` into frames ([`records`]: the header's low two bits pick the port, bit 7
/// ends a burst, bit 6 ticks, bit 5 makes a TCP frame a super-frame) and feeds them through
/// a fresh switch in bursts.
pub fn run_pipeline(data: &[u8]) {
    static CONFIG: OnceLock<SwitchConfig> = OnceLock::new();
    let now = Instant::now();
    let Ok(mut sw) = Switch::new(CONFIG.get_or_init(config).clone(), now) else { return };
    let mut rx = Vec::new();
    let mut out = Vec::new();
    let mut t = now;
    let mut records = records(data).peekable();
    while let Some((hdr, frame)) = records.next() {
        let mut buf = PacketBuf::from_frame(frame);
        // Bit 5: a TCP super-frame (as GRO hands one over), of segments sized by bits 2-4.
        if hdr & 0x20 != 0 {
            let size = 64 + u16::from(hdr & 0x1c) * 64;
            buf.set_gso(crate::offload::tcp_gso(frame, size, false));
        }
        rx.push(Rx { port: PortId(u16::from(hdr & 3)), buf });
        if hdr & 0x80 != 0 || records.peek().is_none() {
            sw.process(t, &mut rx, &mut out);
            if hdr & 0x40 != 0 {
                t += Duration::from_secs(u64::from(hdr & 0x0f));
                sw.tick(t, &mut out);
            }
            for tx in out.drain(..) {
                // Everything sent is at least an Ethernet header and fits a jumbo frame.
                assert!(tx.buf.len() >= 14 && tx.buf.len() <= 1500 + 18 + 54, "{}", tx.buf.len());
            }
        }
    }
    let _ = (sw.status(), sw.mac_table(t), sw.flows(t, 0, 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_input_never_panics() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..3000 {
            let n = (next() % 600) as usize;
            let mut d: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            // Steer some records at the VTEP MAC and at IPv4/ARP.
            if d.len() > 20 && next() % 2 == 0 {
                d[0] = 3 | 0x80;
                d[1] = 0;
                d[2] = 200;
                d[3..9].copy_from_slice(&FUZZ_VTEP_MAC);
                d[15..17].copy_from_slice(if next() % 3 == 0 { &[8, 6] } else { &[8, 0] });
                d[17] = 0x45;
            }
            run_pipeline(&d);
        }
    }

    /// A received TCP super-frame with octets after its IP packet (Ethernet padding): its
    /// segments carry the TCP payload alone (a fuzzer's find, 2026-12-02).
    #[test]
    fn a_padded_super_frame_cuts_into_its_payload() {
        let hex = [
            "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            "00000000000000000000000000000000000000000000fd00004300940192bafaba00000500f6ff940800477e",
            "0045ffff00000006005f0000002400000000000000000000000000000000000500f6ff2727107a0000000000",
            "0000000000000000000000000000000000002d0000002500000000ffffffffffffffffffffffffffffffffff",
            "ffffffffffffffffffffffffffffffffffffffffffff000000000000000000002d000000000000000000",
        ]
        .concat();
        let d: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        run_io_parsers(&d);
    }

    #[test]
    fn io_parsers_merge_a_stream_and_survive_damage() {
        // Three records of one TCP stream: planned as one run and merged.
        let mut d = Vec::new();
        for k in 0..3u32 {
            let f = crate::io::gso::tests::seg(1000 + k * 100, 100, 0);
            d.push(0);
            d.extend_from_slice(&(f.len() as u16).to_be_bytes());
            d.extend_from_slice(&f);
        }
        assert_eq!(run_io_parsers(&d), 3);
        let mut x: u64 = 0x5851_f42d_4c95_7f2d;
        for _ in 0..3000 {
            let mut e = d.clone();
            let r = crate::testutil::xorshift(&mut x);
            let i = (r as usize) % e.len();
            e[i] = (r >> 32) as u8;
            e.truncate((r >> 40) as usize % (d.len() + 1));
            run_io_parsers(&e);
        }
    }
}
