//! NVMe/TCP target on loopback, driven by our initiator library (`dpu_nvmf::initiator`):
//! 4 I/O queues, one command in flight per queue, against a RAM namespace. The peer is
//! plain TCP request/response on the same loopback with the same message sizes and the
//! same number of connections: the ceiling any protocol at queue depth 1 can reach here.

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
    server.stop();
    Ok(())
}
