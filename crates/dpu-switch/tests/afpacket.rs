//! The AF_PACKET port against the kernel: a veth pair in a network namespace of the test's
//! own (needs root, as `cargo xtask test` runs). Here rather than among the unit tests,
//! which also run under qemu-user, whose packet sockets are not the kernel's.
#![allow(clippy::unwrap_used)] // Test helpers: a panic is a test failure.

use dpu_switch::counters::TxDrops;
use dpu_switch::io::afpacket::{AfPacketPort, warn_if_interface_mtu_below};
use dpu_switch::io::{PortIo, TxStats};
use dpu_switch::{BufPool, PacketBuf, PortId};

/// Runs `f` on a thread moved into a network namespace of its own (unshare(2) moves only
/// the calling thread; the `ip` it runs inherits it), holding veth pair `vtx`/`vrx` at
/// MTU 1500. Needs root, as `cargo xtask test` runs.
fn in_own_netns_with_veth<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .expect("unshare(CLONE_NEWNET) needs root");
        let ip = |args: &[&str]| {
            let st = std::process::Command::new("ip").args(args).status().unwrap();
            assert!(st.success(), "ip {args:?}");
        };
        ip(&["link", "add", "vtx", "mtu", "1500", "type", "veth", "peer", "name", "vrx"]);
        ip(&["link", "set", "vtx", "up"]);
        ip(&["link", "set", "vrx", "up"]);
        f()
    })
    .join()
    .unwrap()
}

/// A frame of `len` octets from `vtx` to `vrx` of a local experimental EtherType (IEEE
/// 802: 0x88b5), `tag` in its payload.
fn experimental_frame(len: usize, tag: u8) -> PacketBuf {
    let mut f = vec![tag; len];
    f[..6].copy_from_slice(&[2, 0, 0, 0, 0, 0xb]);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 0xa]);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    PacketBuf::from_frame(&f)
}

/// A frame over the interface's MTU (the port's configured MTU being larger) is refused
/// by the kernel alone: counted dropped and refused, and the rest of the burst still goes.
#[test]
fn a_frame_over_the_interface_mtu_drops_alone() {
    let (first, second, received, below) = in_own_netns_with_veth(|| {
        let below =
            (warn_if_interface_mtu_below("vtx", 9000), warn_if_interface_mtu_below("vtx", 1500));
        let mut a = AfPacketPort::open("vtx", 9000).unwrap().with_tcp_coalescing(false);
        let mut b = AfPacketPort::open("vrx", 1500).unwrap();
        let mut burst = |sizes: &[usize], tag: u8| {
            let mut frames: Vec<PacketBuf> =
                sizes.iter().map(|&n| experimental_frame(n, tag)).collect();
            a.send_burst(&mut frames).unwrap()
        };
        let first = burst(&[60, 60, 2014, 60, 60, 60], 1);
        let second = burst(&[2014, 60, 60, 60], 2);
        // veth hands frames to its peer at once; the ring may still lag: bounded wait.
        let mut pool = BufPool::default();
        let mut rx = Vec::new();
        for _ in 0..100 {
            b.recv_burst(PortId(0), &mut pool, &mut rx).unwrap();
            let ours = rx.iter().filter(|r| r.buf.frame()[12..14] == [0x88, 0xb5]).count();
            if ours >= 8 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let received: Vec<(usize, u8)> = rx
            .iter()
            .filter(|r| r.buf.frame()[12..14] == [0x88, 0xb5])
            .map(|r| (r.buf.len(), r.buf.frame()[20]))
            .collect();
        (first, second, received, below)
    });
    assert_eq!(below, (Some(1500), None));
    let big = experimental_frame(2014, 0);
    let one = TxDrops::of([&big]);
    assert_eq!(first, TxStats { sent: 5, dropped: one, refused: 1 });
    assert_eq!(second, TxStats { sent: 3, dropped: one, refused: 1 });
    let mut want = vec![(60, 1); 5];
    want.extend([(60, 2); 3]);
    assert_eq!(received, want);
}
