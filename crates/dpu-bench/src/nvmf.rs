//! NVMe/TCP target on loopback, driven by our initiator library (`dpu_nvmf::initiator`)
//! against a RAM namespace:
//! - 4 I/O queues, one command in flight per queue; peer: plain TCP request/response on
//!   the same loopback with the same message sizes and number of connections;
//! - one I/O queue with 32 commands in flight (4 KiB random reads / writes); peer: a
//!   minimal TCP server answering 64-byte requests with 4 KiB (or 4 KiB + 64-byte
//!   requests with 64 bytes), 32 requests in flight on one connection;
//! - sequential 128 KiB reads at queue depth 32 on one queue; peer: iperf3 on loopback
//!   (one stream), same run;
//! - queue depth 1 latency (p99 of 4 KiB random reads).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dpu_nvmf::initiator::{HostController, HostOptions};
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target, Volume};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::report;

/// Commands in flight for the `_qd32` figures.
const QD: usize = 32;
/// Request / response sizes of the raw TCP limit peer at QD 32.
const REQ_SMALL: usize = 64;

const NQN: &str = "nqn.2024-01.io.example.bench:ram";
const QUEUES: u16 = 4;
const BS: u32 = 4096;
const VOLUME: u64 = 256 << 20;

#[derive(Clone, Copy)]
enum Op {
    Read,
    Write,
}

/// Commands completed per second over all queues, each doing `size`-byte `op`s.
async fn ours(addr: SocketAddr, op: Op, size: usize, time: Duration) -> anyhow::Result<f64> {
    let c = HostController::connect(addr, NQN, &HostOptions::default(), QUEUES)
        .await
        .context("connecting the initiator")?;
    let blocks = (size / BS as usize) as u32;
    let slots = VOLUME / size as u64;
    let mut tasks = Vec::new();
    for (i, mut q) in c.io.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let data = vec![0xA5u8; size];
            let mut n = 0u64;
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ i as u64;
            let start = Instant::now();
            while start.elapsed() < time {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let slba = (x % slots) * u64::from(blocks);
                let done = match op {
                    Op::Read => q.read(1, slba, blocks, BS).await,
                    Op::Write => q.write(1, slba, &data, BS).await,
                };
                if !done.map(|c| c.cqe.status.is_success()).unwrap_or(false) {
                    return Err(anyhow::anyhow!("I/O failed"));
                }
                n += 1;
            }
            Ok::<_, anyhow::Error>(n as f64 / start.elapsed().as_secs_f64())
        }));
    }
    let mut total = 0.0;
    for t in tasks {
        total += t.await??;
    }
    drop(c.admin);
    Ok(total)
}

/// Round trips per second of plain TCP: `req` bytes out, `resp` bytes back, on
/// `QUEUES` connections.
async fn tcp_peer(req: usize, resp: usize, time: Duration) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let mut inb = vec![0u8; req];
                let out = vec![0x5Au8; resp];
                while s.read_exact(&mut inb).await.is_ok() {
                    if s.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut tasks = Vec::new();
    for _ in 0..QUEUES {
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let out = vec![0x33u8; req];
            let mut inb = vec![0u8; resp];
            let mut n = 0u64;
            let start = Instant::now();
            while start.elapsed() < time {
                s.write_all(&out).await?;
                s.read_exact(&mut inb).await?;
                n += 1;
            }
            Ok::<_, anyhow::Error>(n as f64 / start.elapsed().as_secs_f64())
        }));
    }
    let mut total = 0.0;
    for t in tasks {
        total += t.await??;
    }
    server.abort();
    Ok(total)
}

/// Commands completed per second on one I/O queue keeping `QD` commands of `size`
/// bytes in flight, at random (`seq == false`) or sequential offsets.
async fn ours_qd(
    addr: SocketAddr,
    op: Op,
    size: usize,
    seq: bool,
    time: Duration,
) -> anyhow::Result<f64> {
    let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1)
        .await
        .context("connecting the initiator")?;
    let q = c.io.first_mut().context("no I/O queue")?;
    anyhow::ensure!(q.queue_depth() >= QD, "queue depth {} < {QD}", q.queue_depth());
    let blocks = (size / BS as usize) as u32;
    let slots = VOLUME / size as u64;
    let data = vec![0xA5u8; size];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = 0u64;
    let mut slba = || {
        let s = if seq {
            next = (next + 1) % slots;
            next
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % slots
        };
        s * u64::from(blocks)
    };
    let mut n = 0u64;
    let start = Instant::now();
    for _ in 0..QD {
        match op {
            Op::Read => q.start_read(1, slba(), blocks, BS).await?,
            Op::Write => q.start_write(1, slba(), &data, BS).await?,
        };
    }
    while start.elapsed() < time {
        let (_, done) = q.next_completion().await?;
        anyhow::ensure!(done.cqe.status.is_success(), "I/O failed: {:?}", done.cqe);
        n += 1;
        match op {
            Op::Read => q.start_read(1, slba(), blocks, BS).await?,
            Op::Write => q.start_write(1, slba(), &data, BS).await?,
        };
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    while q.in_flight() > 0 {
        q.next_completion().await?;
    }
    Ok(rate)
}

/// Round trips per second of a minimal TCP server on one connection: `req` bytes
/// out, `resp` bytes back, `QD` requests in flight.
async fn tcp_limit_qd(req: usize, resp: usize, time: Duration) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    // Both sides read through a 256 KiB buffer (as the initiator and the target do), so
    // pipelined messages cost one read call per batch, not one per message.
    let server = tokio::spawn(async move {
        let Ok((s, _)) = listener.accept().await else { return };
        let _ = s.set_nodelay(true);
        let (r, mut w) = s.into_split();
        let mut r = tokio::io::BufReader::with_capacity(256 * 1024, r);
        let mut inb = vec![0u8; req];
        let out = vec![0x5Au8; resp];
        while r.read_exact(&mut inb).await.is_ok() {
            if w.write_all(&out).await.is_err() {
                return;
            }
        }
    });
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let (r, mut w) = s.into_split();
    let mut r = tokio::io::BufReader::with_capacity(256 * 1024, r);
    let out = vec![0x33u8; req];
    let mut inb = vec![0u8; resp];
    for _ in 0..QD {
        w.write_all(&out).await?;
    }
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed() < time {
        tokio::time::timeout(Duration::from_secs(10), r.read_exact(&mut inb)).await??;
        n += 1;
        w.write_all(&out).await?;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop((r, w));
    server.abort();
    Ok(rate)
}

/// Microseconds per 4 KiB random read with one command in flight, sorted.
async fn qd1_latencies(addr: SocketAddr, time: Duration) -> anyhow::Result<Vec<f64>> {
    let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1)
        .await
        .context("connecting the initiator")?;
    let q = c.io.first_mut().context("no I/O queue")?;
    let slots = VOLUME / u64::from(BS);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut lat = Vec::new();
    let start = Instant::now();
    while start.elapsed() < time {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Instant::now();
        let done = q.read(1, x % slots, 1, BS).await?;
        anyhow::ensure!(done.cqe.status.is_success(), "read failed: {:?}", done.cqe);
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(f64::total_cmp);
    Ok(lat)
}

/// Received bits per second of one iperf3 TCP stream on loopback (bounded by timeouts).
async fn iperf3_loopback(secs: u64) -> anyhow::Result<f64> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port().to_string();
    let mut srv = tokio::process::Command::new("iperf3")
        .args(["-s", "-1", "-B", "127.0.0.1", "-p", &port])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting iperf3 (install it: apt-get install iperf3)")?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = tokio::process::Command::new("ss").args(["-ltnH"]).output().await?;
        if String::from_utf8_lossy(&out.stdout).contains(&format!("127.0.0.1:{port}")) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "iperf3 server did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = tokio::process::Command::new("iperf3")
        .args(["-c", "127.0.0.1", "-p", &port, "-t", &secs.to_string(), "-J"])
        .args(["--connect-timeout", "3000"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(secs + 20), client)
        .await
        .context("iperf3 client timed out")??;
    let _ = tokio::time::timeout(Duration::from_secs(5), srv.wait()).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["end"]["sum_received"]["bits_per_second"].as_f64().ok_or_else(|| {
        anyhow::anyhow!("iperf3 gave no result: {}", String::from_utf8_lossy(&out.stdout))
    })
}

pub async fn run(scale_down: usize) -> anyhow::Result<()> {
    let time = Duration::from_millis(3000 / scale_down.max(1) as u64);
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: NQN.into(),
        serial: "BENCH".into(),
        model: "dpu-bench".into(),
        allow_any_host: true,
        hosts: BTreeSet::new(),
    })?;
    t.add_namespace(NQN, 1, Arc::new(Volume::ram("bench", BS, VOLUME)?), [1; 16], [2; 16])?;
    let server = Server::new(t, 16);
    let addr = server
        .add_listener(ListenerSpec {
            port_id: 1,
            addr: "127.0.0.1:0".parse()?,
            allow_hdgst: true,
            allow_ddgst: true,
        })
        .await?;
    // Sizes on the wire: CapsuleCmd 72 bytes, CapsuleResp 24, C2HData header 24.
    let figures = [
        ("nvmf.read_4k_iops_qd1x4", Op::Read, 4096usize, 72usize, 24 + 4096 + 24),
        ("nvmf.write_4k_iops_qd1x4", Op::Write, 4096, 72 + 4096, 24),
        ("nvmf.read_128k_iops_qd1x4", Op::Read, 131072, 72, 24 + 131072 + 24),
    ];
    for (name, op, size, req, resp) in figures {
        let value = ours(addr, op, size, time).await?;
        let peer = tcp_peer(req, resp, time).await?;
        report::compared(name, value, "IOPS", "tcp-request-response", peer, true);
        if size >= 131072 {
            report::value("nvmf.read_128k_mb_per_s_qd1x4", value * size as f64 / 1e6, "MB/s");
        }
    }
    // Queue depth 32 on one queue against the raw TCP request-response limit.
    let qd32 = [
        ("nvmf.randread_4k_qd32_vs_tcp_limit", Op::Read, REQ_SMALL, 4096usize),
        ("nvmf.randwrite_4k_qd32_vs_tcp_limit", Op::Write, 4096 + REQ_SMALL, REQ_SMALL),
    ];
    for (name, op, req, resp) in qd32 {
        let value = ours_qd(addr, op, 4096, false, time).await?;
        let peer = tcp_limit_qd(req, resp, time).await?;
        report::compared(name, value, "IOPS", "tcp-request-response-qd32", peer, true);
    }
    // Sequential 128 KiB reads at QD 32 on one queue against iperf3 on loopback.
    let iops = ours_qd(addr, Op::Read, 131072, true, time).await?;
    let gbps = iops * 131072.0 * 8.0 / 1e9;
    let secs = time.as_secs().max(1);
    let peer = iperf3_loopback(secs).await? / 1e9;
    report::compared("nvmf.seqread_128k_vs_iperf3", gbps, "Gbit/s", "iperf3-loopback", peer, true);
    let lat = qd1_latencies(addr, time).await?;
    report::value("nvmf.qd1_p99_us", report::percentile(&lat, 0.99), "us");
    server.stop();
    Ok(())
}
