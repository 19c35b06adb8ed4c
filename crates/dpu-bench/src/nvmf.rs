//! NVMe/TCP target on loopback, driven by our initiator library (`dpu_nvmf::initiator`)
//! against a RAM namespace, every figure next to a peer measured in the same run:
//! - 4 KiB random reads and writes at queue depth 1, 32 and 128 per queue, on 1 and 2 I/O
//!   queues; peer: the raw TCP request-response limit of the same shape (a minimal server
//!   answering 64-byte requests with 4 KiB, or 4 KiB + 64-byte requests with 64 bytes, on
//!   as many connections with as many requests in flight each);
//! - sequential 128 KiB reads and writes at queue depth 32 on one queue; peer: iperf3 on
//!   loopback (one stream);
//! - p50 / p99 latency of the queue depth 1 random reads on one queue, from a round of
//!   their own after the IOPS rounds (which record nothing);
//! - 4 KiB random reads and writes at queue depth 32 on a file volume; peer: fio doing
//!   the same on the same file (io_uring, O_DIRECT).
//!
//! The tracked 4 KiB lines are also measured against the raw TCP limit with the RAM
//! volume's memory traffic added to the peer (`_vs_tcp_ram_limit`): its replies gathered
//! straight from random blocks of a 256 MiB buffer, or its requests' data copied into
//! them; and on a 1 MiB RAM volume that stays in the CPU caches against the plain peer
//! (`_small_volume_vs_tcp_limit`). Both separate the protocol's cost from the cost of
//! touching cold memory.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dpu_nvmf::initiator::{Bytes, HostController, HostOptions, HostQueue};
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target, Volume};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

use crate::report;

const NQN: &str = "nqn.2024-01.io.example.bench:ram";
const BS: u32 = 4096;
const VOLUME: u64 = 256 << 20;
/// Namespace 2: a RAM volume small enough to stay in the CPU caches
/// (`_small_volume_vs_tcp_limit`), so its copies cost what the peer's hot buffer does.
const SMALL_VOLUME: u64 = 1 << 20;
/// Request size of the raw TCP limit peer (the payload-free direction).
const REQ_SMALL: usize = 64;
/// Queue depths and queue counts of the random 4 KiB matrix.
const DEPTHS: [usize; 3] = [1, 32, 128];
const QUEUE_COUNTS: [usize; 2] = [1, 2];
/// Queue depth of the sequential 128 KiB figures.
const SEQ_QD: usize = 32;
const SEQ_SIZE: usize = 128 * 1024;
/// Both ends of the raw TCP limit peer read up to this much at once, as the initiator and
/// the target do, so a batch of pipelined messages costs one read call.
const PEER_READ_BUF: usize = 256 * 1024;

#[derive(Clone, Copy)]
enum Op {
    Read,
    Write,
}

/// Connections and commands in flight on each.
#[derive(Clone, Copy)]
struct Shape {
    queues: usize,
    qd: usize,
}

/// What our initiator runs.
#[derive(Clone, Copy)]
struct Load {
    op: Op,
    /// Bytes per command.
    size: usize,
    /// Sequential (else random) offsets.
    seq: bool,
    shape: Shape,
    time: Duration,
    /// Keep every command's latency.
    record: bool,
    /// SQ flow control on (NVMe/TCP's default): every read completes with a CapsuleResp
    /// after its data. Off (`nvme connect --disable-sqflow`), the last C2HData PDU's
    /// SUCCESS flag completes it.
    sqflow: bool,
    /// The namespace: [`VOLUME`] bytes, or [`SMALL_VOLUME`] bytes.
    ns: Namespace,
}

/// The bench target's namespaces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namespace {
    /// NSID 1, [`VOLUME`] bytes: random blocks miss the caches.
    Large,
    /// NSID 2, [`SMALL_VOLUME`] bytes: every block stays cached.
    Small,
    /// NSID 3, [`VOLUME`] bytes of a file (direct I/O where the file system allows it),
    /// added only for the `_file_vs_fio` figures.
    File,
}

impl Namespace {
    fn nsid(self) -> u32 {
        match self {
            Namespace::Large => 1,
            Namespace::Small => 2,
            Namespace::File => 3,
        }
    }

    fn bytes(self) -> u64 {
        match self {
            Namespace::Large | Namespace::File => VOLUME,
            Namespace::Small => SMALL_VOLUME,
        }
    }
}

/// Result of one run of our initiator.
struct Run {
    /// Commands completed per second over all queues.
    iops: f64,
    /// Microseconds of every command from before its start (its write to the socket
    /// included) to its completion, sorted (when asked for).
    latencies_us: Vec<f64>,
}

/// Offsets (in blocks) of `size`-byte commands: xorshift random, or sequential from a
/// per-queue start.
struct Offsets {
    x: u64,
    seq: bool,
    slots: u64,
    blocks: u64,
}

impl Offsets {
    fn new(queue: usize, size: usize, seq: bool, volume: u64) -> Self {
        let slots = volume / size as u64;
        let x =
            if seq { queue as u64 * slots / 2 } else { 0x9E37_79B9_7F4A_7C15 ^ (queue as u64 + 1) };
        Self { x, seq, slots, blocks: (size / BS as usize) as u64 }
    }

    fn next(&mut self) -> u64 {
        let slot = if self.seq {
            self.x = (self.x + 1) % self.slots;
            self.x
        } else {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            self.x % self.slots
        };
        slot * self.blocks
    }
}

/// The peer's stand-in for a RAM volume (`_vs_tcp_ram_limit`): as large as the bench
/// volume, written once in full, on transparent huge pages as the RAM backend's chunks.
type PeerMemory = Arc<Mutex<memmap2::MmapMut>>;

fn peer_memory() -> anyhow::Result<PeerMemory> {
    let mut m = memmap2::MmapMut::map_anon(VOLUME as usize).context("mapping peer memory")?;
    // Only advice, as for the RAM backend.
    let _ = m.advise(memmap2::Advice::HugePage);
    // Written, so reads touch memory of their own rather than the shared zero page.
    m.fill(0x6B);
    Ok(Arc::new(Mutex::new(m)))
}

/// Sends `count` random 4 KiB blocks of `mem` (`blocks` gives their block numbers) with
/// vectored writes straight from it (the kernel copies them out of cold memory; no copy
/// of the peer's own).
async fn write_blocks<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    mem: &[u8],
    blocks: &mut Offsets,
    count: usize,
) -> anyhow::Result<()> {
    let bs = BS as usize;
    let mut offsets = [0usize; 64];
    let mut left = count;
    while left > 0 {
        let k = left.min(offsets.len());
        for o in &mut offsets[..k] {
            *o = blocks.next() as usize * bs;
        }
        let mut slices: [io::IoSlice<'_>; 64] = [io::IoSlice::new(&[]); 64];
        for (s, &o) in slices.iter_mut().zip(&offsets[..k]) {
            *s = io::IoSlice::new(&mem[o..o + bs]);
        }
        let mut rest = &mut slices[..k];
        while !rest.is_empty() {
            let n = w.write_vectored(rest).await?;
            anyhow::ensure!(n > 0, "peer closed");
            io::IoSlice::advance_slices(&mut rest, n);
        }
        left -= k;
    }
    Ok(())
}

/// Starts one command of `data.len()` bytes (every write sends the same shared buffer).
async fn start_one(
    q: &mut HostQueue,
    op: Op,
    nsid: u32,
    slba: u64,
    data: &Bytes,
) -> anyhow::Result<u16> {
    let blocks = (data.len() / BS as usize) as u32;
    Ok(match op {
        Op::Read => q.start_read(nsid, slba, blocks, BS).await?,
        Op::Write => q.start_write_shared(nsid, slba, data.clone(), BS).await?,
    })
}

/// Completions between two looks at the clock when no latency is recorded (the load
/// generator's own cost per command stays out of the figures).
const CLOCK_EVERY: u64 = 64;

/// Keeps `load.shape.qd` commands in flight on `q` for `load.time` (each completion is
/// replaced by a new command at once); returns IOPS and, if `load.record`, latencies.
async fn drive_queue(
    mut q: HostQueue,
    queue: usize,
    load: Load,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let Load { op, size, seq, shape: Shape { qd, .. }, time, record, ns, .. } = load;
    anyhow::ensure!(q.queue_depth() >= qd, "queue depth {} < {qd}", q.queue_depth());
    let data = Bytes::from(vec![0xA5u8; size]);
    let mut offsets = Offsets::new(queue, size, seq, ns.bytes());
    // Start times by CID, only when latencies are recorded.
    let mut started: HashMap<u16, Instant> = HashMap::new();
    let mut latencies = Vec::new();
    let start = Instant::now();
    for _ in 0..qd {
        // Read before the start, whose write to the socket is part of the latency.
        let t = record.then(Instant::now);
        let cid = start_one(&mut q, op, ns.nsid(), offsets.next(), &data).await?;
        if let Some(t) = t {
            started.insert(cid, t);
        }
    }
    let mut n = 0u64;
    loop {
        let (cid, done) = q.next_completion().await?;
        anyhow::ensure!(done.cqe.status.is_success(), "I/O failed: {:?}", done.cqe);
        n += 1;
        // Only when recording: a hash-map lookup per command is load-generator cost
        // the peer's client does not have.
        if record && let Some(t) = started.remove(&cid) {
            latencies.push(t.elapsed().as_secs_f64() * 1e6);
        }
        if (record || n.is_multiple_of(CLOCK_EVERY)) && start.elapsed() >= time {
            break;
        }
        let t = record.then(Instant::now);
        let cid = start_one(&mut q, op, ns.nsid(), offsets.next(), &data).await?;
        if let Some(t) = t {
            started.insert(cid, t);
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    while q.in_flight() > 0 {
        q.next_completion().await?;
    }
    Ok((rate, latencies))
}

/// Our initiator against the target: `load.shape.queues` I/O queues of one controller
/// (one TCP connection each, driven by its own task).
async fn ours(addr: SocketAddr, load: Load) -> anyhow::Result<Run> {
    let opts = HostOptions { disable_sqflow: !load.sqflow, ..HostOptions::default() };
    let c = HostController::connect(addr, NQN, &opts, load.shape.queues as u16)
        .await
        .context("connecting the initiator")?;
    let mut tasks = Vec::new();
    for (i, q) in c.io.into_iter().enumerate() {
        tasks.push(tokio::spawn(drive_queue(q, i, load)));
    }
    let mut run = Run { iops: 0.0, latencies_us: Vec::new() };
    for t in tasks {
        let (iops, lat) = t.await??;
        run.iops += iops;
        run.latencies_us.extend(lat);
    }
    run.latencies_us.sort_by(f64::total_cmp);
    drop(c.admin);
    Ok(run)
}

/// Writes every block of `namespaces` once, so reads copy written data rather than
/// unallocated zeroes.
async fn fill_volume(addr: SocketAddr, namespaces: &[Namespace]) -> anyhow::Result<()> {
    let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1)
        .await
        .context("connecting the initiator")?;
    let q = c.io.first_mut().context("no I/O queue")?;
    let data = Bytes::from(vec![0x5Cu8; SEQ_SIZE]);
    let blocks = (SEQ_SIZE / BS as usize) as u64;
    for &ns in namespaces {
        for slot in 0..ns.bytes() / SEQ_SIZE as u64 {
            if q.in_flight() >= SEQ_QD {
                let (_, done) = q.next_completion().await?;
                anyhow::ensure!(done.cqe.status.is_success(), "fill failed: {:?}", done.cqe);
            }
            q.start_write_shared(ns.nsid(), slot * blocks, data.clone(), BS).await?;
        }
    }
    while q.in_flight() > 0 {
        let (_, done) = q.next_completion().await?;
        anyhow::ensure!(done.cqe.status.is_success(), "fill failed: {:?}", done.cqe);
    }
    Ok(())
}

/// Reads more of a stream of `msg`-byte messages into `buf`, which holds `have` bytes
/// from the last call: its whole messages are dropped and its partial one kept at the
/// front. Returns how many whole messages `buf` now starts with (they stay there until
/// the next call).
async fn read_messages<R: AsyncReadExt + Unpin>(
    r: &mut R,
    buf: &mut [u8],
    have: &mut usize,
    msg: usize,
) -> anyhow::Result<usize> {
    let partial = *have % msg;
    buf.copy_within(*have - partial..*have, 0);
    let n = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf[partial..])).await??;
    anyhow::ensure!(n > 0, "peer closed");
    *have = partial + n;
    Ok(*have / msg)
}

/// Writes `count` copies of a message, in writes of at most `batch.len()` bytes (`batch`
/// holds the message repeated).
async fn write_messages<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    batch: &[u8],
    msg: usize,
    mut count: usize,
) -> anyhow::Result<()> {
    while count > 0 {
        let k = count.min(batch.len() / msg);
        w.write_all(&batch[..k * msg]).await?;
        count -= k;
    }
    Ok(())
}

/// The raw TCP request-response limit of a shape: round trips per second of a minimal
/// server on `shape.queues` connections, each with `shape.qd` requests of `req` bytes in
/// flight, every request answered with `resp` bytes. Both ends batch as ours do: every
/// read takes what has arrived (up to 256 KiB), and the answers to (or the new requests
/// for) all the whole messages in it leave in one write. With `memory`, the server also
/// does a RAM volume's memory traffic: 4 KiB answers are gathered from random blocks of
/// it, and the first 4 KiB of each larger request are copied into a random block.
async fn tcp_limit(
    req: usize,
    resp: usize,
    shape: Shape,
    time: Duration,
    memory: Option<PeerMemory>,
    server_thread: Option<&ServerThread>,
) -> anyhow::Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let qd = shape.qd;
    let serve = async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let _ = s.set_nodelay(true);
            let memory = memory.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; PEER_READ_BUF];
                let replies = vec![0x5Au8; resp * qd];
                let mut have = 0;
                // Random 4 KiB blocks, as our initiator picks them.
                let bs = BS as usize;
                let mut blocks = Offsets::new(0, bs, false, VOLUME);
                while let Ok(k) = read_messages(&mut s, &mut buf, &mut have, req).await {
                    let sent = match &memory {
                        Some(m) if resp == bs => {
                            write_blocks(&mut s, &m.lock().await, &mut blocks, k).await
                        }
                        Some(m) => {
                            let mut mem = m.lock().await;
                            for msg in buf.chunks(req).take(k) {
                                let o = blocks.next() as usize * bs;
                                mem[o..o + bs].copy_from_slice(&msg[..bs]);
                            }
                            drop(mem);
                            write_messages(&mut s, &replies, resp, k).await
                        }
                        None => write_messages(&mut s, &replies, resp, k).await,
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            });
        }
    };
    // The listener moves to the server's runtime with the task that accepts on it.
    let server = match server_thread {
        Some(st) => st.handle.spawn(serve),
        None => tokio::spawn(serve),
    };
    let mut tasks = Vec::new();
    for _ in 0..shape.queues {
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let mut buf = vec![0u8; PEER_READ_BUF];
            let requests = vec![0x33u8; req * qd];
            let mut have = 0;
            let start = Instant::now();
            write_messages(&mut s, &requests, req, qd).await?;
            let mut n = 0u64;
            while start.elapsed() < time {
                let k = read_messages(&mut s, &mut buf, &mut have, resp).await?;
                n += k as u64;
                write_messages(&mut s, &requests, req, k).await?;
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
    let mut client = tokio::process::Command::new("iperf3");
    client.args(["-c", "127.0.0.1", "-p", &port, "-t", &secs.to_string(), "-J"]);
    client.args(["--connect-timeout", "3000"]);
    let v = json_output(client, Duration::from_secs(secs + 20)).await?;
    let _ = tokio::time::timeout(Duration::from_secs(5), srv.wait()).await;
    v["end"]["sum_received"]["bits_per_second"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("iperf3 gave no result: {v}"))
}

/// Runs a peer tool that prints its result as JSON (iperf3 `-J`, fio `--output-format=json`),
/// killed after `limit`; its parsed output.
async fn json_output(
    mut cmd: tokio::process::Command,
    limit: Duration,
) -> anyhow::Result<serde_json::Value> {
    let tool = cmd.as_std().get_program().to_string_lossy().into_owned();
    let run = cmd.kill_on_drop(true).output();
    let out = tokio::time::timeout(limit, run)
        .await
        .with_context(|| format!("{tool} timed out"))?
        .with_context(|| format!("starting {tool} (install it: apt-get install {tool})"))?;
    anyhow::ensure!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).with_context(|| format!("{tool}'s JSON output"))
}

/// IOPS of fio doing 4 KiB random reads or writes at queue depth `qd` on `path` for
/// `time` (one job, io_uring, O_DIRECT: what the file system and device give without a
/// fabric in between).
async fn fio_random(
    path: &std::path::Path,
    op: Op,
    qd: usize,
    time: Duration,
) -> anyhow::Result<f64> {
    let (rw, side) = match op {
        Op::Read => ("randread", "read"),
        Op::Write => ("randwrite", "write"),
    };
    let secs = time.as_secs().max(1);
    let mut fio = tokio::process::Command::new("fio");
    fio.args(["--name=peer", "--ioengine=io_uring", "--direct=1", "--bs=4k", "--time_based"])
        .args(["--norandommap", "--randrepeat=0", "--output-format=json"])
        .arg(format!("--filename={}", path.display()))
        .arg(format!("--size={VOLUME}"))
        .arg(format!("--rw={rw}"))
        .arg(format!("--iodepth={qd}"))
        .arg(format!("--runtime={secs}"));
    let v = json_output(fio, Duration::from_secs(secs + 30)).await?;
    v["jobs"][0][side]["iops"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("fio gave no {side} IOPS: {v}"))
}

/// The tracked shape of the random 4 KiB figures: QD 32 on one queue.
const TRACKED: Shape = Shape { queues: 1, qd: 32 };

/// `nvmf.randread_4k_qd32_vs_tcp_limit` for one queue, `..._qd32_q2_vs_tcp_limit` for
/// two, `..._qd32_sqflow_vs_tcp_limit` with SQ flow control on, `..._qd32_vs_tcp_ram_limit`
/// against the peer with memory traffic.
fn matrix_name(f: &Figure) -> String {
    let Figure { op, shape, sqflow, ram_peer, ns } = *f;
    let op = match op {
        Op::Read => "randread",
        Op::Write => "randwrite",
    };
    let q = if shape.queues == 1 { String::new() } else { format!("_q{}", shape.queues) };
    let mode = if sqflow { "_sqflow" } else { "" };
    let volume = if ns == Namespace::Small { "_small_volume" } else { "" };
    let peer = if ram_peer { "tcp_ram_limit" } else { "tcp_limit" };
    format!("nvmf.{op}_4k_qd{}{q}{mode}{volume}_vs_{peer}", shape.qd)
}

/// Latency lines of the QD 1 reads on one queue (µs, nearest rank).
const QD1_P50: &str = "nvmf.qd1_p50_us";
const QD1_P99: &str = "nvmf.qd1_p99_us";

/// The random 4 KiB matrix: with SQ flow control off (as `nvme connect --disable-sqflow`:
/// a read is one C2HData PDU, as the peer answers each request with one message), and the
/// tracked read once more in NVMe/TCP's default mode; the tracked lines once more against
/// the peer with a RAM volume's memory traffic, and on the small volume.
fn matrix() -> Vec<Figure> {
    let mut matrix = Vec::new();
    for op in [Op::Read, Op::Write] {
        let plain =
            Figure { op, shape: TRACKED, sqflow: false, ram_peer: false, ns: Namespace::Large };
        for queues in QUEUE_COUNTS {
            for qd in DEPTHS {
                matrix.push(Figure { shape: Shape { queues, qd }, ..plain });
            }
        }
        if matches!(op, Op::Read) {
            matrix.push(Figure { sqflow: true, ..plain });
        }
        matrix.push(Figure { ram_peer: true, ..plain });
        matrix.push(Figure { ns: Namespace::Small, ..plain });
    }
    matrix
}

/// The figure whose commands' latencies give [`QD1_P50`] and [`QD1_P99`]: reads at QD 1
/// on one queue.
fn gives_latencies(f: &Figure) -> bool {
    matches!(f.op, Op::Read) && f.shape.queues == 1 && f.shape.qd == 1
}

/// The lines a matrix figure's run prints; it runs when one of them is selected.
fn figure_lines(f: &Figure) -> Vec<String> {
    let mut lines = vec![matrix_name(f)];
    if gives_latencies(f) {
        lines.extend([QD1_P50.to_owned(), QD1_P99.to_owned()]);
    }
    lines
}

/// A matrix figure's load for its IOPS rounds, and for the round its latencies come from.
/// The IOPS rounds record nothing: recording costs a map insert and removal and two clock
/// reads per command that the peer's client does not spend.
fn figure_loads(f: &Figure, time: Duration) -> (Load, Option<Load>) {
    let Figure { op, shape, sqflow, ns, .. } = *f;
    let load = Load { op, size: 4096, seq: false, shape, time, record: false, sqflow, ns };
    (load, gives_latencies(f).then_some(Load { record: true, ..load }))
}

/// One figure of the random 4 KiB matrix.
#[derive(Clone, Copy)]
struct Figure {
    op: Op,
    shape: Shape,
    sqflow: bool,
    /// The peer does a RAM volume's memory traffic.
    ram_peer: bool,
    ns: Namespace,
}

/// Alternating rounds of ours and the peer per figure; each side's best round counts, so
/// a burst of load from other processes on the machine lowers neither figure.
const ROUNDS: usize = 3;

/// Which side of each figure runs.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Side {
    /// Ours and the peer, alternating (the figures and their ratios).
    Both,
    /// Only ours (to profile the target and initiator alone).
    Ours,
    /// Only the peer.
    Peer,
}

/// The figures to run: names containing one of `only` (all when empty), on `side`.
struct Selection<'a> {
    only: &'a [String],
    side: Side,
}

impl Selection<'_> {
    fn wants(&self, name: &str) -> bool {
        report::selected(self.only, name)
    }

    /// Prints a figure: compared with its peer when both sides ran, else the side that did.
    fn report(
        &self,
        name: &str,
        ours: Option<f64>,
        unit: &str,
        peer: &str,
        peer_value: Option<f64>,
    ) {
        match (ours, peer_value) {
            (Some(v), Some(p)) => report::compared(name, v, unit, peer, p, true),
            (Some(v), None) => report::value(name, v, unit),
            (None, Some(p)) => report::value(&format!("{name}.peer"), p, unit),
            (None, None) => {}
        }
    }
}

/// The best of [`ROUNDS`] alternating runs of ours (by IOPS) and of `peer` (each side
/// only if `side` asks for it).
async fn best_of<F, P>(
    addr: SocketAddr,
    load: Load,
    side: Side,
    mut peer: P,
) -> anyhow::Result<(Option<Run>, Option<f64>)>
where
    P: FnMut() -> F,
    F: std::future::Future<Output = anyhow::Result<f64>>,
{
    let mut best: Option<Run> = None;
    let mut best_peer: Option<f64> = None;
    for _ in 0..ROUNDS {
        if side != Side::Peer {
            let r = ours(addr, load).await?;
            if best.as_ref().is_none_or(|b| r.iops > b.iops) {
                best = Some(r);
            }
        }
        if side != Side::Ours {
            let p = peer().await?;
            best_peer = Some(best_peer.map_or(p, |b| b.max(p)));
        }
    }
    Ok((best, best_peer))
}

/// Runs the figures whose names contain one of `only` (all when empty), on `side`.
pub async fn run(scale_down: usize, only: &[String], side: Side) -> anyhow::Result<()> {
    let sel = Selection { only, side };
    let time = Duration::from_millis(1000 / scale_down.max(1) as u64);
    let (server, addr) = serve_bench_target().await?;
    if sel.side != Side::Peer {
        fill_volume(addr, &[Namespace::Large, Namespace::Small]).await?;
    }

    // Mapped and written once, when a figure wants it.
    let mut memory: Option<PeerMemory> = None;
    for f in matrix() {
        let name = matrix_name(&f);
        if !report::any_selected(sel.only, figure_lines(&f)) {
            continue;
        }
        let (load, latency_load) = figure_loads(&f, time);
        // The IOPS rounds, unless only the latency lines are selected.
        if sel.wants(&name) {
            let Figure { op, shape, ram_peer, .. } = f;
            let peer_memory = match &memory {
                _ if !ram_peer || sel.side == Side::Ours => None,
                Some(m) => Some(m.clone()),
                None => Some(memory.insert(peer_memory()?).clone()),
            };
            // (request, response) bytes of the raw TCP limit peer.
            let (req, resp) = match op {
                Op::Read => (REQ_SMALL, 4096),
                Op::Write => (4096 + REQ_SMALL, REQ_SMALL),
            };
            let (r, peer) = best_of(addr, load, sel.side, || {
                tcp_limit(req, resp, shape, time, peer_memory.clone(), None)
            })
            .await?;
            let memory_label = if ram_peer { "-ram" } else { "" };
            let label =
                format!("tcp-request-response{memory_label}-qd{}x{}", shape.qd, shape.queues);
            sel.report(&name, r.map(|r| r.iops), "IOPS", &label, peer);
        }
        // Then one recording round of ours alone.
        if let Some(load) = latency_load
            && sel.side != Side::Peer
            && (sel.wants(QD1_P50) || sel.wants(QD1_P99))
        {
            let lat = ours(addr, load).await?.latencies_us;
            for (line, q) in [(QD1_P50, 0.50), (QD1_P99, 0.99)] {
                if sel.wants(line) {
                    report::value(line, report::percentile(&lat, q), "us");
                }
            }
        }
    }
    // 4 KiB random reads and writes at QD 32 on a file volume, against fio doing the same
    // on the same file: what the target's volume I/O engine (io_uring transfers, or the
    // pool) and the fabric cost over the storage itself.
    // The `_pool` lines run every transfer on the pool of blocking threads instead, as
    // where the kernel has no io_uring (a container whose seccomp profile refuses it).
    let file_lines = [
        (Op::Read, true, "nvmf.randread_4k_qd32_file_vs_fio"),
        (Op::Write, true, "nvmf.randwrite_4k_qd32_file_vs_fio"),
        (Op::Read, false, "nvmf.randread_4k_qd32_file_pool_vs_fio"),
        (Op::Write, false, "nvmf.randwrite_4k_qd32_file_pool_vs_fio"),
    ];
    if file_lines.iter().any(|(_, _, n)| sel.wants(n)) {
        let dir = tempfile::tempdir().context("a directory for the file volume")?;
        let path = dir.path().join("bench-file.img");
        let volume = Arc::new(Volume::file("bench-file", &path, BS, VOLUME)?);
        server.target().add_namespace(NQN, Namespace::File.nsid(), volume, [5; 16], [6; 16])?;
        // Written in full, so neither side reads holes.
        fill_volume(addr, &[Namespace::File]).await?;
        for (op, uring, name) in file_lines {
            if !sel.wants(name) {
                continue;
            }
            // Applies to the connections of the next run.
            server.set_io_uring(uring);
            let load = Load {
                op,
                size: BS as usize,
                seq: false,
                shape: TRACKED,
                time,
                record: false,
                sqflow: false,
                ns: Namespace::File,
            };
            let peer = || fio_random(&path, op, TRACKED.qd, time);
            let (r, peer) = best_of(addr, load, sel.side, peer).await?;
            sel.report(name, r.map(|r| r.iops), "IOPS", "fio-io_uring-direct-qd32", peer);
        }
        server.set_io_uring(true);
    }
    server.stop();
    // Sequential 128 KiB at QD 32 on one queue against iperf3 on loopback.
    let seq =
        [(Op::Read, "nvmf.seqread_128k_vs_iperf3"), (Op::Write, "nvmf.seqwrite_128k_vs_iperf3")];
    // The target on a thread of its own, as iperf3's receiver is a process of its own (and
    // the target is in production): in the bench's runtime the initiator and the target
    // shared one core (`perf stat`: 1.07 CPUs for seqwrite) while iperf3 used 1.4.
    let seq_target = if seq.iter().any(|(_, n)| sel.wants(n)) {
        Some(OwnThreadTarget::start("bench-seq-target", sel.side).await?)
    } else {
        None
    };
    for (op, name) in seq {
        let Some(target) = &seq_target else { break };
        if !sel.wants(name) {
            continue;
        }
        let shape = Shape { queues: 1, qd: SEQ_QD };
        let load = Load {
            op,
            size: SEQ_SIZE,
            seq: true,
            shape,
            time,
            record: false,
            sqflow: false,
            ns: Namespace::Large,
        };
        let secs = time.as_secs().max(1);
        let (r, peer) = best_of(target.addr, load, sel.side, || iperf3_loopback(secs)).await?;
        let gbps = r.map(|r| r.iops * SEQ_SIZE as f64 * 8.0 / 1e9);
        sel.report(name, gbps, "Gbit/s", "iperf3-loopback", peer.map(|p| p / 1e9));
    }
    drop(seq_target);
    if sel.wants(SERVER_CPU) {
        let memory = memory.map_or_else(peer_memory, Ok)?;
        let (ours, peer) = server_cpu_per_command(time, sel.side, memory).await?;
        let per_core = |ns: Option<f64>| ns.map_or(0.0, |ns| 1e9 / ns);
        match (ours, peer) {
            (Some(v), Some(p)) => report::compared_with(
                SERVER_CPU,
                v,
                "ns/cmd",
                "tcp-request-response-ram-qd32x1-server",
                p,
                false,
                &[("iops_per_core", per_core(ours)), ("peer_iops_per_core", per_core(peer))],
            ),
            _ => sel.report(SERVER_CPU, ours, "ns/cmd", "", peer),
        }
    }
    Ok(())
}

/// The bench's target: one subsystem open to any host with two RAM namespaces of
/// [`BS`]-byte blocks ([`Namespace`]), on a loopback listener of the current runtime.
async fn serve_bench_target() -> anyhow::Result<(Arc<Server>, SocketAddr)> {
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: NQN.into(),
        serial: "BENCH".into(),
        model: "dpu-bench".into(),
        allow_any_host: true,
        hosts: BTreeSet::new(),
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
    })?;
    for (ns, name, ids) in [(Namespace::Large, "bench", 1), (Namespace::Small, "bench-small", 3)] {
        let volume = Arc::new(Volume::ram(name, BS, ns.bytes())?);
        t.add_namespace(NQN, ns.nsid(), volume, [ids; 16], [ids + 1; 16])?;
    }
    let server = Server::new(t, 16);
    let addr = server
        .add_listener(ListenerSpec {
            port_id: 1,
            addr: "127.0.0.1:0".parse()?,
            allow_hdgst: true,
            allow_ddgst: true,
            discovery_only: false,
        })
        .await?;
    Ok((server, addr))
}

/// The serving side's CPU time per command, its own thread alone (`ns/cmd`, ratio peer /
/// ours; `iops_per_core` is its inverse): 4 KiB random reads at QD 32 on one queue, the
/// target on a runtime of its own as it runs on cores of its own in production, against
/// the minimal server with the RAM volume's memory traffic, also on a runtime of its own.
/// What the anchor counts (SPDK's ~600 K 4 KiB IOPS per target core), system
/// calls included; the load generators are not counted.
const SERVER_CPU: &str = "nvmf.randread_4k_qd32_server_cpu_vs_tcp_ram_limit";

/// A current-thread tokio runtime on a thread of its own, whose CPU time is read on it.
struct ServerThread {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn start(name: &str) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            rt.block_on(async {
                let _ = stopped.await;
            });
        })?;
        Ok(Self { handle, stop: Some(stop), thread: Some(thread) })
    }

    /// CPU time the thread has used so far (its thread CPU clock: user and system).
    async fn cpu_time(&self) -> anyhow::Result<Duration> {
        self.handle.spawn(async { crate::clock::thread_cpu_time() }).await?
    }

    /// Server CPU nanoseconds per command of `run`, which reports commands per second
    /// over `time`.
    async fn ns_per_command<F>(&self, time: Duration, run: F) -> anyhow::Result<f64>
    where
        F: std::future::Future<Output = anyhow::Result<f64>>,
    {
        let before = self.cpu_time().await?;
        let rate = run.await?;
        let used = self.cpu_time().await?.saturating_sub(before);
        anyhow::ensure!(rate > 0.0, "no command completed");
        Ok(used.as_secs_f64() * 1e9 / (rate * time.as_secs_f64()))
    }
}

/// The bench's target ([`serve_bench_target`]) on a [`ServerThread`], its namespaces
/// written in full unless only the peer runs; stopped when dropped.
struct OwnThreadTarget {
    server: Arc<Server>,
    addr: SocketAddr,
    thread: ServerThread,
}

impl OwnThreadTarget {
    async fn start(name: &str, side: Side) -> anyhow::Result<Self> {
        let thread = ServerThread::start(name)?;
        let (server, addr) = thread.handle.spawn(serve_bench_target()).await??;
        if side != Side::Peer {
            fill_volume(addr, &[Namespace::Large, Namespace::Small]).await?;
        }
        Ok(Self { server, addr, thread })
    }
}

impl Drop for OwnThreadTarget {
    fn drop(&mut self) {
        self.server.stop();
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// [`SERVER_CPU`]: the lowest of [`ROUNDS`] alternating rounds of each side.
async fn server_cpu_per_command(
    time: Duration,
    side: Side,
    memory: PeerMemory,
) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    let load = Load {
        op: Op::Read,
        size: 4096,
        seq: false,
        shape: TRACKED,
        time,
        record: false,
        sqflow: false,
        ns: Namespace::Large,
    };
    let target = OwnThreadTarget::start("bench-target", side).await?;
    let peer = ServerThread::start("bench-peer-server")?;
    let (mut best, mut best_peer) = (None::<f64>, None::<f64>);
    let lowest = |best: &mut Option<f64>, v: f64| *best = Some(best.map_or(v, |b| b.min(v)));
    for _ in 0..ROUNDS {
        if side != Side::Peer {
            let run = async { ours(target.addr, load).await.map(|r| r.iops) };
            lowest(&mut best, target.thread.ns_per_command(time, run).await?);
        }
        if side != Side::Ours {
            let mem = Some(memory.clone());
            let run = tcp_limit(REQ_SMALL, 4096, TRACKED, time, mem, Some(&peer));
            lowest(&mut best_peer, peer.ns_per_command(time, run).await?);
        }
    }
    Ok((best, best_peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    /// The matrix figures a selection runs.
    fn runs(sel: &[&str]) -> Vec<String> {
        let sel = only(sel);
        matrix()
            .iter()
            .filter(|f| report::any_selected(&sel, figure_lines(f)))
            .map(matrix_name)
            .collect()
    }

    /// The latency lines, tracked names of their own, run the QD 1 reads they come from.
    #[test]
    fn a_latency_line_alone_runs_the_qd1_reads() {
        for sel in [&["nvmf.qd1_p99_us"][..], &["qd1_p50"], &["nvmf.qd1_p50_us", "nvmf.qd1_p99_us"]]
        {
            assert_eq!(runs(sel), ["nvmf.randread_4k_qd1_vs_tcp_limit"], "{sel:?}");
        }
        assert_eq!(runs(&["randwrite_4k_qd1_vs"]), ["nvmf.randwrite_4k_qd1_vs_tcp_limit"]);
        assert_eq!(runs(&[]).len(), matrix().len());
    }

    /// The IOPS rounds record no latencies (a map insert and removal and two clock reads
    /// per command that the peer's client does not do); the QD 1 reads' latencies come
    /// from a recording round of the same load of their own.
    #[test]
    fn iops_rounds_record_nothing() {
        let time = Duration::from_millis(10);
        for f in matrix() {
            let (iops, latency) = figure_loads(&f, time);
            assert!(!iops.record, "{} records in its IOPS rounds", matrix_name(&f));
            match latency {
                Some(l) => {
                    assert!(gives_latencies(&f) && l.record, "{}", matrix_name(&f));
                    assert_eq!((l.shape.qd, l.shape.queues), (iops.shape.qd, iops.shape.queues));
                    assert_eq!(l.ns.nsid(), iops.ns.nsid());
                }
                None => assert!(!gives_latencies(&f), "{} has no latency round", matrix_name(&f)),
            }
        }
    }
}
