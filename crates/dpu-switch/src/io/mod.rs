//! I/O backends and the worker loop that drives the pipeline.
//!
//! A backend implements [`PortIo`] for one port: receive a burst, send a burst, and expose a
//! file descriptor to wait on. [`afpacket::AfPacketPort`] (TPACKET_V3 mmap ring, sendmmsg)
//! is the Linux backend; an AF_XDP one can implement the same trait later.
//! [`MemoryPort`] moves frames through in-memory queues for tests and benchmarks.
//!
//! [`Worker`] is one thread polling its ports: it waits with poll(2) on their descriptors,
//! drains each ready port's ring, hands the whole burst to [`Switch::process`] under one lock,
//! and sends the results grouped by port, one sendmmsg per port and burst. With more than one
//! worker ([`Shard`]), each receives on its share of the ports (port id modulo the worker
//! count) and sends on every port through a send-only socket of its own; the pipeline runs
//! under the switch's lock, receive copies and sends run in parallel.

pub mod afpacket;
pub(crate) mod gso;
pub mod sys;

use std::collections::{HashMap, VecDeque};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::counters::TxDrops;
use crate::packet::{BufPool, PacketBuf, PortId, Rx, Tx};
use crate::switch::Switch;

/// I/O failures.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// Opening or configuring an interface failed.
    #[error("opening {ifname}: {source}")]
    Open {
        /// Interface.
        ifname: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Sending failed (other than a full queue).
    #[error("sending on {ifname}: {source}")]
    Send {
        /// Interface.
        ifname: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The port's interface went away.
    #[error("{ifname} is gone: {source}")]
    Lost {
        /// Interface.
        ifname: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Waiting for the ports failed.
    #[error("poll: {0}")]
    Poll(std::io::Error),
}

/// What a send burst did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxStats {
    /// Frames handed to the kernel.
    pub sent: usize,
    /// Frames not sent (the queue full, a frame the kernel would refuse), with what they
    /// stood for on the wire, to take them out of the port's sent counters.
    pub dropped: TxDrops,
    /// Of those, frames the kernel refused alone (larger than the interface's MTU), each a
    /// send error; the frames after them in the burst were still sent.
    pub refused: usize,
}

/// One port's I/O.
pub trait PortIo: Send {
    /// The interface name.
    fn name(&self) -> &str;
    /// False for a send-only port (another worker receives on the interface).
    fn receives(&self) -> bool {
        true
    }
    /// A descriptor that polls readable when frames are waiting; `None` for ports that are
    /// checked on every iteration (in-memory ports).
    fn poll_fd(&self) -> Option<BorrowedFd<'_>>;
    /// Whether frames are waiting, when the backend can tell without a system call (a
    /// mapped ring's next slot); `None` when it cannot (the worker then polls).
    fn rx_ready(&self) -> Option<bool> {
        None
    }
    /// Appends the frames waiting on this port to `out`, tagged with `port`, each copied into
    /// a buffer from `pool`; returns how many.
    fn recv_burst(
        &mut self,
        port: PortId,
        pool: &mut BufPool,
        out: &mut Vec<Rx>,
    ) -> Result<usize, IoError>;
    /// Sends `frames`; a frame whose checksum is pending ([`PacketBuf::csum_pending`]) leaves
    /// with it completed, by the backend or by the kernel.
    fn send_burst(&mut self, frames: &mut [PacketBuf]) -> Result<TxStats, IoError>;
    /// Frames the backend lost before the pipeline saw them, since the last call.
    fn kernel_drops(&mut self) -> u64 {
        0
    }

    /// Called when the descriptor reports an error: clears it, and fails when the port is
    /// unusable (its interface went away), so the worker closes it and opens it again by name.
    fn check_error(&mut self) -> Result<(), IoError> {
        Ok(())
    }

    /// False when the interface this port was bound to no longer exists (a new one may carry
    /// its name). Checked every tick: the error a deletion raises can be consumed while the
    /// interface is still going down and listed under its old index, and the kernel reports
    /// no second error at unregister.
    fn still_bound(&self) -> bool {
        true
    }
}

type Queue = Arc<Mutex<VecDeque<Vec<u8>>>>;

fn lock(q: &Queue) -> MutexGuard<'_, VecDeque<Vec<u8>>> {
    q.lock().unwrap_or_else(|p| p.into_inner())
}

/// Largest number of frames an in-memory queue holds; more are dropped (as a NIC would).
pub const MEMORY_QUEUE_LIMIT: usize = 4096;

/// An in-memory port: the switch's side.
#[derive(Debug)]
pub struct MemoryPort {
    name: String,
    to_switch: Queue,
    from_switch: Queue,
    receives: bool,
}

/// The other end of a [`MemoryPort`]: a test injects frames and collects what the switch sent.
#[derive(Debug, Clone)]
pub struct MemoryPeer {
    to_switch: Queue,
    from_switch: Queue,
}

impl MemoryPort {
    /// A port named `name` and its peer.
    pub fn pair(name: &str) -> (MemoryPort, MemoryPeer) {
        let (a, b) = (Queue::default(), Queue::default());
        (
            MemoryPort {
                name: name.to_owned(),
                to_switch: Arc::clone(&a),
                from_switch: Arc::clone(&b),
                receives: true,
            },
            MemoryPeer { to_switch: a, from_switch: b },
        )
    }
}

impl MemoryPeer {
    /// Another switch-side handle on the same port, in `role` (one per worker).
    pub fn port(&self, name: &str, role: PortRole) -> MemoryPort {
        MemoryPort {
            name: name.to_owned(),
            to_switch: Arc::clone(&self.to_switch),
            from_switch: Arc::clone(&self.from_switch),
            receives: role == PortRole::ReceiveAndSend,
        }
    }
}

impl MemoryPeer {
    /// Queues a frame towards the switch; false when the queue is full.
    pub fn inject(&self, frame: &[u8]) -> bool {
        let mut q = lock(&self.to_switch);
        if q.len() >= MEMORY_QUEUE_LIMIT {
            return false;
        }
        q.push_back(frame.to_vec());
        true
    }

    /// Takes every frame the switch sent.
    pub fn collect(&self) -> Vec<Vec<u8>> {
        lock(&self.from_switch).drain(..).collect()
    }
}

impl PortIo for MemoryPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn receives(&self) -> bool {
        self.receives
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    fn recv_burst(
        &mut self,
        port: PortId,
        pool: &mut BufPool,
        out: &mut Vec<Rx>,
    ) -> Result<usize, IoError> {
        let mut q = lock(&self.to_switch);
        let n = q.len();
        out.extend(q.drain(..).map(|f| Rx { port, buf: pool.copy_of(&f) }));
        Ok(n)
    }

    fn send_burst(&mut self, frames: &mut [PacketBuf]) -> Result<TxStats, IoError> {
        // The peer reads bytes: nothing would complete a pending checksum or cut a
        // super-frame into its segments after this.
        let mut q = lock(&self.from_switch);
        let mut sent = 0;
        for buf in frames.iter_mut() {
            if q.len() + buf.segments() as usize > MEMORY_QUEUE_LIMIT {
                break;
            }
            if buf.gso().is_some() {
                crate::offload::segment(buf, |s| q.push_back(s.frame().to_vec()));
            } else {
                buf.complete_csum();
                q.push_back(buf.frame().to_vec());
            }
            sent += 1;
        }
        // The frames sent are the first ones.
        Ok(TxStats { sent, dropped: TxDrops::of(&frames[sent..]), refused: 0 })
    }
}

/// How a worker uses a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRole {
    /// Receives and sends (the worker owning the port's receive side).
    ReceiveAndSend,
    /// Sends only (another worker receives on it).
    SendOnly,
}

/// A port a worker asks its [`Opener`] to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec<'a> {
    /// Port name, also the interface name.
    pub name: &'a str,
    /// How this worker uses the port.
    pub role: PortRole,
    /// The port's configured MTU (sizes receive buffers; the port is reopened when it changes).
    pub mtu: u16,
}

/// Opens the I/O of a port (the binary passes [`afpacket::AfPacketPort::open`] or
/// [`afpacket::AfPacketPort::open_send_only`]).
pub type Opener = Box<dyn FnMut(&PortSpec<'_>) -> Result<Box<dyn PortIo>, IoError> + Send>;

/// Which share of the ports a worker receives on: those whose id modulo `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's number, below `count`.
    pub index: u16,
    /// Number of workers (at least 1).
    pub count: u16,
}

impl Shard {
    /// The only worker.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    fn role(self, port: PortId) -> PortRole {
        if port.0 % self.count.max(1) == self.index {
            PortRole::ReceiveAndSend
        } else {
            PortRole::SendOnly
        }
    }
}

/// Counters of the worker itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WorkerStats {
    /// Loop iterations that received something.
    pub bursts: u64,
    /// Frames received.
    pub rx_frames: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Frames that could not be sent (queue full, send error, port not open); each port's
    /// own are in its `tx_dropped`.
    pub tx_dropped: u64,
    /// Ports closed because their interface went away (reopened when it is back).
    pub ports_lost: u64,
    /// Frames lost before the pipeline (ring full, truncated).
    pub rx_lost: u64,
    /// Send errors: failed bursts, and frames the kernel refused alone (larger than the
    /// interface's MTU).
    pub tx_errors: u64,
    /// Ports that could not be opened (retried every tick).
    pub open_errors: u64,
}

impl WorkerStats {
    /// Adds another worker's counters (the service reports the sum).
    pub fn add(&mut self, o: &WorkerStats) {
        self.bursts += o.bursts;
        self.rx_frames += o.rx_frames;
        self.tx_frames += o.tx_frames;
        self.tx_dropped += o.tx_dropped;
        self.ports_lost += o.ports_lost;
        self.rx_lost += o.rx_lost;
        self.tx_errors += o.tx_errors;
        self.open_errors += o.open_errors;
    }
}

/// How often the worker calls [`Switch::tick`] and re-syncs its ports with the configuration.
pub const TICK: Duration = Duration::from_millis(250);
/// Longest wait in poll(2): the stop flag is checked at least this often.
pub const POLL_TIMEOUT: Duration = Duration::from_millis(100);

/// The forwarding loop. Ports follow the switch's configuration: a port the configuration
/// gains is opened (retried each tick until it works), a port it loses is closed.
pub struct Worker {
    switch: Arc<Mutex<Switch>>,
    open: Opener,
    ports: Vec<(PortId, Box<dyn PortIo>)>,
    /// The MTU each open port was opened for.
    opened_mtu: HashMap<PortId, u16>,
    stats: Arc<Mutex<WorkerStats>>,
    /// Ports whose last open failed (warned about once, retried every tick).
    failing: std::collections::HashSet<String>,
    /// Buffers of sent frames, reused for received ones.
    pool: BufPool,
    /// One port's frames of a burst being sent (kept between bursts: no allocation per burst).
    tx_frames: Vec<PacketBuf>,
    /// The last burst's frames each port could not send, for the ports' counters.
    tx_dropped: Vec<(PortId, TxDrops)>,
    shard: Shard,
    /// How long to keep checking the rings after a burst before sleeping in poll(2).
    rx_spin: Duration,
    /// The configuration generation the ports were last synced with.
    synced: Option<u64>,
    /// Times the port list was read and synced with.
    port_syncs: u64,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("ports", &self.ports.len()).finish()
    }
}

impl Worker {
    /// The only worker for `switch`, opening ports with `open`.
    pub fn new(switch: Arc<Mutex<Switch>>, open: Opener) -> Self {
        Self::sharded(switch, open, Shard::ALL)
    }

    /// One of several workers: receives on the ports of `shard`, sends on all. Worker 0 also
    /// runs the switch's periodic [`Switch::tick`].
    pub fn sharded(switch: Arc<Mutex<Switch>>, open: Opener, shard: Shard) -> Self {
        Worker {
            tx_frames: Vec::new(),
            tx_dropped: Vec::new(),
            shard,
            rx_spin: Duration::ZERO,
            switch,
            open,
            ports: Vec::new(),
            opened_mtu: HashMap::new(),
            stats: Arc::default(),
            failing: Default::default(),
            pool: BufPool::default(),
            synced: None,
            port_syncs: 0,
        }
    }

    /// After a burst, keeps checking the receive rings for up to `spin` (yielding the CPU
    /// between checks) before sleeping in poll(2): under a steady stream the next frames are
    /// picked up without the kernel waking the worker for them (a V2 ring wakes a sleeping
    /// reader per frame, a context switch each, taken from whoever shares the CPU). Zero (the
    /// default) sleeps at once.
    pub fn with_rx_spin(mut self, spin: Duration) -> Self {
        self.rx_spin = spin;
        self
    }

    /// Shared view of the worker's counters.
    pub fn stats(&self) -> Arc<Mutex<WorkerStats>> {
        Arc::clone(&self.stats)
    }

    fn sync_ports(&mut self) -> u64 {
        // Every worker takes the switch lock each tick: the port list is read (a pass over
        // up to 4,096 ports) only when a configuration was applied since, or a port is
        // still to be (re)opened.
        let wanted = {
            let sw = self.switch.lock().unwrap_or_else(|p| p.into_inner());
            let generation = sw.generation();
            if self.synced == Some(generation) && self.failing.is_empty() {
                return 0;
            }
            self.synced = Some(generation);
            sw.port_specs()
        };
        self.port_syncs += 1;
        let wanted_name = |id: &PortId| {
            let i = wanted.binary_search_by_key(id, |w| w.0).ok()?;
            wanted.get(i).map(|w| w.1.as_str())
        };
        // Ports gone (or renamed) close; one whose MTU changed keeps serving until its
        // socket for the new MTU is open, and goes on serving if that cannot be opened.
        // `self.ports` stays sorted by id (ports opened here join it after the loop).
        self.ports.retain(|(id, io)| wanted_name(id) == Some(io.name()));
        let mut opened = Vec::new();
        let mut errors = 0;
        for (id, name, mtu) in wanted {
            let serving = self.ports.binary_search_by_key(&id, |(p, _)| *p).ok();
            if serving.is_some() && self.opened_mtu.get(&id) == Some(&mtu) {
                continue;
            }
            let spec = PortSpec { name: &name, role: self.shard.role(id), mtu };
            match (self.open)(&spec) {
                Ok(io) => {
                    tracing::info!(port = %name, mtu, "port bound");
                    self.failing.remove(&name);
                    self.opened_mtu.insert(id, mtu);
                    match serving.and_then(|i| self.ports.get_mut(i)) {
                        Some(slot) => *slot = (id, io),
                        None => opened.push((id, io)),
                    }
                }
                Err(e) => {
                    if self.failing.insert(name.clone()) {
                        tracing::warn!(port = %name, error = %e, "cannot bind port; retrying every tick");
                    } else {
                        tracing::debug!(port = %name, error = %e, "cannot bind port");
                    }
                    errors += 1;
                }
            }
        }
        self.ports.extend(opened);
        self.ports.sort_by_key(|(id, _)| *id);
        errors
    }

    /// Runs until `stop` is set (checked at least every [`POLL_TIMEOUT`]).
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), IoError> {
        let mut rx: Vec<Rx> = Vec::with_capacity(1024);
        let mut tx: Vec<Tx> = Vec::with_capacity(1024);
        let mut last_tick: Option<Instant> = None;
        let mut ready = Vec::new();
        let mut errored = Vec::new();
        // Until when the rings are checked before sleeping (after a burst).
        let mut spin_until: Option<Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            let tick_due = last_tick.is_none_or(|t| now.saturating_duration_since(t) >= TICK);
            if tick_due {
                let gone: Vec<usize> =
                    (0..self.ports.len()).filter(|&i| !self.ports[i].1.still_bound()).collect();
                if !gone.is_empty() {
                    self.drop_lost(&gone);
                }
                let errors = self.sync_ports();
                let lost: u64 = self.ports.iter_mut().map(|(_, p)| p.kernel_drops()).sum();
                let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
                st.open_errors += errors;
                st.rx_lost += lost;
            }
            errored.clear();
            if !spin_until.is_some_and(|until| self.spin(until, &mut ready)) {
                self.wait(&mut ready, &mut errored)?;
            }
            if !errored.is_empty() {
                self.drop_broken(&errored);
                ready.clear();
                ready.resize(self.ports.len(), false);
            }
            for (i, (id, port)) in self.ports.iter_mut().enumerate() {
                if port.receives() && ready.get(i).copied().unwrap_or(true) {
                    port.recv_burst(*id, &mut self.pool, &mut rx)?;
                }
            }
            let now = Instant::now();
            let received = rx.len() as u64;
            if received > 0 && !self.rx_spin.is_zero() {
                spin_until = Some(now + self.rx_spin);
            }
            {
                let mut sw = self.switch.lock().unwrap_or_else(|p| p.into_inner());
                sw.process(now, &mut rx, &mut tx);
                if tick_due && self.shard.index == 0 {
                    sw.tick(now, &mut tx);
                }
            }
            if tick_due {
                last_tick = Some(now);
            }
            let (sent, dropped, errors) = self.transmit(&mut tx);
            if dropped > 0 {
                // Rare (a full queue, a port gone): the lock once more, for the ports' counts.
                self.count_tx_dropped();
            }
            if received > 0 || sent > 0 {
                let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
                st.bursts += u64::from(received > 0);
                st.rx_frames += received;
                st.tx_frames += sent;
                st.tx_dropped += dropped;
                st.tx_errors += errors;
            }
        }
        Ok(())
    }

    /// Clears the error of each port in `errored`; closes those that are unusable (reopened by
    /// name on a later tick).
    fn drop_broken(&mut self, errored: &[usize]) {
        let mut broken = Vec::new();
        for &i in errored {
            if let Some((_, port)) = self.ports.get_mut(i)
                && let Err(e) = port.check_error()
            {
                tracing::warn!(port = port.name(), error = %e, "port lost; reopening when it is back");
                broken.push(i);
            }
        }
        if !broken.is_empty() {
            self.drop_lost(&broken);
        }
    }

    /// Closes the ports at these indices (reopened by name on a later tick) and counts them.
    fn drop_lost(&mut self, indices: &[usize]) {
        let ids: Vec<PortId> =
            indices.iter().filter_map(|&i| self.ports.get(i).map(|(id, _)| *id)).collect();
        for (id, port) in &self.ports {
            if ids.contains(id) {
                tracing::warn!(
                    port = port.name(),
                    "port's interface is gone; reopening when it is back"
                );
            }
        }
        self.ports.retain(|(id, _)| !ids.contains(id));
        // Reopened by the next tick's sync.
        self.synced = None;
        let mut st = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        st.ports_lost += ids.len() as u64;
    }

    /// Checks the receiving ports' rings until one has frames (true, `ready` marks them) or
    /// `until` passes (false: the caller sleeps in poll). Only ports that can tell without a
    /// system call ([`PortIo::rx_ready`]) are checked; with any other, nothing is.
    fn spin(&self, until: Instant, ready: &mut Vec<bool>) -> bool {
        let receiving = || self.ports.iter().filter(|(_, p)| p.receives());
        if receiving().any(|(_, p)| p.rx_ready().is_none()) {
            return false;
        }
        // Bounded by `until`.
        loop {
            if receiving().any(|(_, p)| p.rx_ready() == Some(true)) {
                ready.clear();
                ready.extend(self.ports.iter().map(|(_, p)| p.rx_ready() == Some(true)));
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::yield_now();
        }
    }

    /// Waits until a port is readable or [`POLL_TIMEOUT`]; `ready[i]` says whether port `i`
    /// should be drained (ports without a descriptor always are); `errored` lists the ports
    /// whose descriptor reported an error.
    fn wait(&self, ready: &mut Vec<bool>, errored: &mut Vec<usize>) -> Result<(), IoError> {
        errored.clear();
        let memory = self.ports.iter().any(|(_, p)| p.receives() && p.poll_fd().is_none());
        let mut fds = Vec::with_capacity(self.ports.len());
        let mut index = Vec::with_capacity(self.ports.len());
        for (i, (_, p)) in self.ports.iter().enumerate() {
            // A send-only socket still reports errors (its interface going away).
            if let Some(fd) = p.poll_fd() {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
                index.push(i);
            }
        }
        let timeout = if memory { Duration::from_millis(1) } else { POLL_TIMEOUT };
        let ms = PollTimeout::try_from(timeout.as_millis() as i32).unwrap_or(PollTimeout::ZERO);
        ready.clear();
        ready.resize(self.ports.len(), false);
        if fds.is_empty() {
            std::thread::sleep(timeout);
        } else {
            match poll(&mut fds, ms) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(IoError::Poll(e.into())),
            }
        }
        for (k, fd) in fds.iter().enumerate() {
            let (Some(&i), Some(ev)) = (index.get(k), fd.revents()) else { continue };
            if ev.intersects(PollFlags::POLLERR | PollFlags::POLLHUP | PollFlags::POLLNVAL) {
                errored.push(i);
            }
            if ev.intersects(PollFlags::POLLIN)
                && let Some(r) = ready.get_mut(i)
            {
                *r = true;
            }
        }
        for (i, (_, p)) in self.ports.iter().enumerate() {
            if p.poll_fd().is_none()
                && let Some(r) = ready.get_mut(i)
            {
                *r = true;
            }
        }
        Ok(())
    }

    /// Counts the last burst's frames each port could not send in that port's counters.
    fn count_tx_dropped(&mut self) {
        let mut sw = self.switch.lock().unwrap_or_else(|p| p.into_inner());
        for (port, dropped) in self.tx_dropped.drain(..) {
            sw.count_tx_dropped(port, dropped);
        }
    }

    /// Sends `tx` grouped by port (drained), then keeps the buffers for reuse; returns
    /// (sent, dropped, errors), the drops by port in `self.tx_dropped`.
    fn transmit(&mut self, tx: &mut Vec<Tx>) -> (u64, u64, u64) {
        self.tx_dropped.clear();
        if tx.is_empty() {
            return (0, 0, 0);
        }
        tx.sort_by_key(|t| t.port);
        let (mut sent, mut dropped, mut errors) = (0u64, 0u64, 0u64);
        let mut frames = std::mem::take(&mut self.tx_frames);
        let mut drain = tx.drain(..).peekable();
        while let Some(first) = drain.next() {
            let port = first.port;
            frames.clear();
            frames.push(first.buf);
            while let Some(next) = drain.next_if(|t| t.port == port) {
                frames.push(next.buf);
            }
            let lost = match self.ports.iter_mut().find(|(id, _)| *id == port) {
                Some((_, io)) => match io.send_burst(&mut frames) {
                    Ok(s) => {
                        sent += s.sent as u64;
                        errors += s.refused as u64;
                        s.dropped
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "send failed");
                        errors += 1;
                        TxDrops::of(&frames)
                    }
                },
                None => TxDrops::of(&frames),
            };
            if lost.frames > 0 {
                dropped += lost.frames;
                self.tx_dropped.push((port, lost));
            }
            for buf in frames.drain(..) {
                self.pool.put(buf);
            }
        }
        self.tx_frames = frames;
        (sent, dropped, errors)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{BridgeConfig, PortConfig, PortMode, SwitchConfig};

    fn config(names: &[&str]) -> SwitchConfig {
        SwitchConfig {
            ports: names
                .iter()
                .map(|n| PortConfig {
                    name: (*n).into(),
                    mode: PortMode::Access { vlan: 1 },
                    mtu: 1500,
                    admin_up: true,
                })
                .collect(),
            bridges: vec![BridgeConfig {
                name: "b".into(),
                vlan: Some(1),
                vni: None,
                ageing_secs: 300,
                mac_limit: 10,
                svi: None,
            }],
            ..SwitchConfig::default()
        }
    }

    fn frame(src: u8, dst: u8) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[..6].copy_from_slice(&[2, 0, 0, 0, 0, dst]);
        f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, src]);
        f[12..14].copy_from_slice(&[0x88, 0xb5]); // local experimental EtherType
        f
    }

    fn wait_for(peer: &MemoryPeer, n: usize) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while got.len() < n && Instant::now() < deadline {
            got.extend(peer.collect());
            std::thread::sleep(Duration::from_millis(2));
        }
        got
    }

    /// The peer of port `name` once a worker has bound it.
    fn bound_peer(peers: &Mutex<HashMap<String, MemoryPeer>>, name: &str) -> MemoryPeer {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(p) = peers.lock().unwrap().get(name).cloned() {
                return p;
            }
            assert!(Instant::now() < deadline, "port {name} never bound");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// A worker running on a thread: its counters, the flag that stops it, and the thread.
    type Running =
        (Arc<Mutex<WorkerStats>>, Arc<AtomicBool>, std::thread::JoinHandle<Result<(), IoError>>);

    /// Opens each port as an in-memory pair, keeping the far end in `peers` by port name.
    fn memory_opener(peers: &Arc<Mutex<HashMap<String, MemoryPeer>>>) -> Opener {
        let peers = Arc::clone(peers);
        Box::new(move |spec| {
            let (port, peer) = MemoryPort::pair(spec.name);
            peers.lock().unwrap().insert(spec.name.to_owned(), peer);
            Ok(Box::new(port))
        })
    }

    /// Runs a worker of `switch` on a thread.
    fn spawn_worker(switch: &Arc<Mutex<Switch>>, open: Opener) -> Running {
        let mut worker = Worker::new(Arc::clone(switch), open);
        let stats = worker.stats();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = Arc::clone(&stop);
        (stats, stop, std::thread::spawn(move || worker.run(&s2)))
    }

    /// The port list is read from the switch only when a configuration was applied since
    /// the last sync (every worker syncs every tick, under the switch lock), and then
    /// follows it.
    #[test]
    fn ports_are_synced_only_after_a_config_change() {
        let now = Instant::now();
        let switch = Arc::new(Mutex::new(Switch::new(config(&["a", "b"]), now).unwrap()));
        let peers: Arc<Mutex<HashMap<String, MemoryPeer>>> = Arc::default();
        let mut w = Worker::new(Arc::clone(&switch), memory_opener(&peers));
        let names = |w: &Worker| w.ports.iter().map(|(_, p)| p.name().to_owned()).collect();
        let serving: fn(&Worker) -> Vec<String> = names;
        assert_eq!(w.sync_ports(), 0);
        assert_eq!((w.port_syncs, serving(&w)), (1, vec!["a".into(), "b".into()]));
        assert_eq!(w.sync_ports(), 0);
        assert_eq!(w.port_syncs, 1, "no change: the port list is not read again");
        switch.lock().unwrap().apply(config(&["a", "c", "d"]), now).unwrap();
        w.sync_ports();
        let want: Vec<String> = vec!["a".into(), "c".into(), "d".into()];
        assert_eq!((w.port_syncs, serving(&w)), (2, want.clone()));
        let ids: Vec<PortId> = w.ports.iter().map(|(id, _)| *id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "kept in id order");
        w.sync_ports();
        assert_eq!(w.port_syncs, 2);
        // A lost port is reopened by the next sync.
        w.drop_lost(&[0]);
        w.sync_ports();
        assert_eq!((w.port_syncs, serving(&w)), (3, want));
    }

    #[test]
    fn worker_forwards_between_memory_ports_and_follows_the_config() {
        let switch =
            Arc::new(Mutex::new(Switch::new(config(&["a", "b"]), Instant::now()).unwrap()));
        let peers: Arc<Mutex<HashMap<String, MemoryPeer>>> = Arc::default();
        let (stats, stop, handle) = spawn_worker(&switch, memory_opener(&peers));
        let peer = |n: &str| bound_peer(&peers, n);
        let (a, b) = (peer("a"), peer("b"));
        for _ in 0..100 {
            assert!(a.inject(&frame(1, 2)));
        }
        let got = wait_for(&b, 100);
        assert_eq!(got.len(), 100);
        assert!(got.iter().all(|f| *f == frame(1, 2)));
        // A port added to the configuration is bound by the worker.
        switch.lock().unwrap().apply(config(&["a", "b", "c"]), Instant::now()).unwrap();
        let c = peer("c");
        assert!(a.inject(&frame(1, 0xff)));
        assert_eq!(wait_for(&c, 1).len(), 1);
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap().unwrap();
        let st = *stats.lock().unwrap();
        assert!(st.rx_frames >= 101 && st.tx_frames >= 102, "{st:?}");
    }

    /// A frame the port's transmit queue has no room for is counted in that port's
    /// `tx_dropped` (as Linux and Open vSwitch count an interface's), not only in the
    /// worker's total: an operator sees which port drops. It is counted there only: the
    /// port's `tx_packets` and `tx_bytes` are what it sent (Linux's `ip -s link`, Open
    /// vSwitch's `dump-ports` count a dropped frame in neither).
    #[test]
    fn a_frame_a_full_port_drops_counts_in_its_tx_dropped() {
        let switch =
            Arc::new(Mutex::new(Switch::new(config(&["a", "b"]), Instant::now()).unwrap()));
        let peers: Arc<Mutex<HashMap<String, MemoryPeer>>> = Arc::default();
        let (stats, stop, handle) = spawn_worker(&switch, memory_opener(&peers));
        let (a, _b) = (bound_peer(&peers, "a"), bound_peer(&peers, "b"));
        // b's peer reads nothing: its queue fills, and 100 frames more have no room.
        let received = |n: u64| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while stats.lock().unwrap().rx_frames < n {
                assert!(Instant::now() < deadline, "{:?}", *stats.lock().unwrap());
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        for _ in 0..MEMORY_QUEUE_LIMIT {
            assert!(a.inject(&frame(1, 2)));
        }
        received(MEMORY_QUEUE_LIMIT as u64);
        for _ in 0..100 {
            assert!(a.inject(&frame(1, 2)));
        }
        received(MEMORY_QUEUE_LIMIT as u64 + 100);
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap().unwrap();
        assert_eq!(stats.lock().unwrap().tx_dropped, 100);
        let sw = switch.lock().unwrap();
        let tx_dropped =
            |name: &str| sw.port_counters(sw.port_id(name).unwrap()).unwrap().tx_dropped;
        assert_eq!((tx_dropped("a"), tx_dropped("b")), (0, 100));
        let status = sw.status();
        let b = status.ports.iter().find(|p| p.name == "b").unwrap();
        let sent = MEMORY_QUEUE_LIMIT as u64;
        let c = &b.counters;
        assert_eq!((c.tx_packets, c.tx_bytes, c.tx_dropped), (sent, sent * 60, 100), "{c:?}");
    }

    /// A TCP super-frame a port cannot send (here: not open) takes every segment and octet
    /// it stood for out of the port's `tx_packets` and `tx_bytes`, where the pipeline
    /// counted them on handing it over, and counts once in its `tx_dropped`.
    #[test]
    fn a_super_frame_a_port_cannot_send_leaves_its_tx_counters() {
        let now = Instant::now();
        let mut sw = Switch::new(config(&["a", "b"]), now).unwrap();
        let (a, b) = (sw.port_id("a").unwrap(), sw.port_id("b").unwrap());
        // 3500 octets in 1000-octet segments: 4 on the wire, flooded to b whole.
        let f = crate::io::gso::tests::seg(1, 3500, 0);
        let mut buf = PacketBuf::from_frame(&f);
        buf.set_gso(crate::offload::tcp_gso(&f, 1000, false));
        let (segments, octets) = (buf.segments(), buf.wire_bytes());
        assert_eq!(segments, 4);
        let (mut rx, mut tx) = (vec![Rx { port: a, buf }], Vec::new());
        sw.process(now, &mut rx, &mut tx);
        assert_eq!(tx.len(), 1);
        let c = sw.port_counters(b).unwrap();
        assert_eq!((c.tx_packets, c.tx_bytes), (segments, octets));
        let switch = Arc::new(Mutex::new(sw));
        // The worker never ran: no port is open, so b's frame has nowhere to go.
        let mut worker = Worker::new(Arc::clone(&switch), memory_opener(&Arc::default()));
        assert_eq!(worker.transmit(&mut tx), (0, 1, 0));
        worker.count_tx_dropped();
        let sw = switch.lock().unwrap();
        let c = sw.port_counters(b).unwrap();
        assert_eq!((c.tx_packets, c.tx_bytes, c.tx_dropped), (0, 0, 1), "{c:?}");
    }

    /// A port whose MTU changes keeps forwarding on its old socket until one for the new
    /// MTU opens (here refused at first: a ring of that size may not be had).
    #[test]
    fn a_port_whose_new_mtu_cannot_be_opened_keeps_serving() {
        let switch =
            Arc::new(Mutex::new(Switch::new(config(&["a", "b"]), Instant::now()).unwrap()));
        let peers: Arc<Mutex<HashMap<String, MemoryPeer>>> = Arc::default();
        let allow_9000 = Arc::new(AtomicBool::new(false));
        let (p2, allow) = (Arc::clone(&peers), Arc::clone(&allow_9000));
        let open: Opener = Box::new(move |spec| {
            if spec.mtu == 9000 && !allow.load(Ordering::Relaxed) {
                let source = std::io::Error::other("no ring for MTU 9000");
                return Err(IoError::Open { ifname: spec.name.to_owned(), source });
            }
            let (port, peer) = MemoryPort::pair(spec.name);
            p2.lock().unwrap().insert(format!("{}@{}", spec.name, spec.mtu), peer);
            Ok(Box::new(port))
        });
        let (stats, stop, handle) = spawn_worker(&switch, open);
        let (a, b) = (bound_peer(&peers, "a@1500"), bound_peer(&peers, "b@1500"));
        let mut jumbo = config(&["a", "b"]);
        jumbo.ports[0].mtu = 9000;
        switch.lock().unwrap().apply(jumbo, Instant::now()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while stats.lock().unwrap().open_errors == 0 {
            assert!(Instant::now() < deadline, "the new MTU was never tried");
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(a.inject(&frame(1, 2)));
        assert_eq!(wait_for(&b, 1).len(), 1, "the old socket still forwards");
        allow_9000.store(true, Ordering::Relaxed);
        let a = bound_peer(&peers, "a@9000");
        assert!(a.inject(&frame(1, 2)));
        assert_eq!(wait_for(&b, 1).len(), 1, "the new socket forwards");
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap().unwrap();
    }

    #[test]
    fn two_workers_each_receive_their_ports_and_send_on_all() {
        let switch =
            Arc::new(Mutex::new(Switch::new(config(&["a", "b"]), Instant::now()).unwrap()));
        let peers: Arc<Mutex<HashMap<String, MemoryPeer>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        let mut stats = Vec::new();
        for index in 0..2 {
            let p2 = Arc::clone(&peers);
            let open: Opener = Box::new(move |spec| {
                let mut peers = p2.lock().unwrap();
                let name = spec.name;
                let peer = peers.entry(name.to_owned()).or_insert_with(|| MemoryPort::pair(name).1);
                Ok(Box::new(peer.port(name, spec.role)))
            });
            let mut worker = Worker::sharded(Arc::clone(&switch), open, Shard { index, count: 2 });
            stats.push(worker.stats());
            let s2 = Arc::clone(&stop);
            handles.push(std::thread::spawn(move || worker.run(&s2)));
        }
        let peer = |n: &str| bound_peer(&peers, n);
        let (a, b) = (peer("a"), peer("b"));
        // Both workers have opened both ports once a frame each way gets through.
        for _ in 0..50 {
            assert!(a.inject(&frame(1, 2)));
            assert!(b.inject(&frame(2, 1)));
        }
        let (to_b, to_a) = (wait_for(&b, 50), wait_for(&a, 50));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap().unwrap();
        }
        assert_eq!((to_b.len(), to_a.len()), (50, 50));
        assert!(to_b.iter().all(|f| *f == frame(1, 2)) && to_a.iter().all(|f| *f == frame(2, 1)));
        // Port a (id 0) is received by worker 0 only, port b (id 1) by worker 1 only.
        let st: Vec<WorkerStats> = stats.iter().map(|s| *s.lock().unwrap()).collect();
        assert_eq!((st[0].rx_frames, st[1].rx_frames), (50, 50), "{st:?}");
        let mut sum = WorkerStats::default();
        st.iter().for_each(|s| sum.add(s));
        assert_eq!((sum.rx_frames, sum.tx_frames), (100, 100));
    }
}
