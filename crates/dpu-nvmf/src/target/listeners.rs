//! Listeners and the discovery log (NVMe-oF 1.1 §5.3): the listeners hosts connect
//! through, the digests each allows, the discovery services each refers hosts to, and the
//! entries a host's discovery log shows. Every change of what some log shows moves the
//! target's generation ([`Target::discovery_changed`]); the GENCTR a host reads is its
//! discovery controller's own ([`DiscoveryView`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use dpu_nvmf_proto::fabrics::DISCOVERY_NQN;

use super::{Registry, RegistryError, Target};

/// A listener as the discovery log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSpec {
    /// Port ID (PORTID of discovery log entries), unique per target, a discovery-only
    /// listener's too: it names the listener in the entry of the discovery subsystem
    /// served through it.
    pub port_id: u16,
    /// Address the listener binds.
    pub addr: SocketAddr,
    /// Whether a host may enable header digests.
    pub allow_hdgst: bool,
    /// Whether a host may enable data digests.
    pub allow_ddgst: bool,
    /// It serves the discovery controller alone, and no subsystem entry names it (the
    /// well-known discovery port 8009).
    pub discovery_only: bool,
}

/// One discovery log entry: a subsystem through a listener the host may see, a
/// referral to another discovery service, or the discovery service being asked itself.
/// It holds what the log encodes of it and nothing else (not the listener's digests), so
/// two entries are equal exactly when a host reads the same bytes for them: a discovery
/// controller compares them to decide whether its host's log changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryEntry {
    /// What the entry names (its SUBTYPE).
    pub subtype: DiscoverySubtype,
    /// Subsystem NQN (the well-known discovery NQN for a referral and the current
    /// discovery subsystem).
    pub subnqn: String,
    /// The listener's port ID (PORTID): 0 for a referral.
    pub port_id: u16,
    /// The listener's address, or the referred discovery service's (TRADDR, TRSVCID).
    pub addr: SocketAddr,
}

/// SUBTYPE of a discovery log entry (NVMe-oF 1.1 §5.3, Figure 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoverySubtype {
    /// A referral to another discovery service (1h): a host asks it in turn.
    Referral = 1,
    /// An NVM subsystem (2h).
    Nvm = 2,
    /// The discovery subsystem whose controller returns the log, at the port the host
    /// asked through (3h, "current discovery subsystem"; NVMe Base 2.0 Figure 262).
    CurrentDiscovery = 3,
}

/// What one discovery controller last built of its host's log, and the generation counter
/// (GENCTR) its host reads: "the version of the discovery information" (NVMe-oF 1.1 §5.3,
/// Figure 26), so it moves exactly when a log built for this controller differs from the
/// one built before, by a read at whatever offset or by the check for a change notice.
/// Another host's change leaves it: libnvme reads a log in pieces, the header, the
/// entries, the header again, and tries again while the two GENCTRs differ (6 times, then
/// `nvme connect-all` fails); with one counter for the target, frequent changes for other
/// tenants would fail it. A piece read compares with the log built for the read before, so
/// a change between them shows in the header read after.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryView {
    entries: Vec<DiscoveryEntry>,
    genctr: u64,
    /// The target's generation `entries` were built at.
    built_at: u64,
}

impl DiscoveryView {
    /// Takes the entries just built for this controller at the target's `generation`
    /// ([`Target::discovery_log`]); returns its GENCTR for them. A change moves it one
    /// up, or to the target's generation where that is ahead (a controller's first log
    /// starts there), never back.
    pub(crate) fn update(&mut self, generation: u64, entries: Vec<DiscoveryEntry>) -> u64 {
        if entries != self.entries {
            self.genctr = (self.genctr + 1).max(generation);
            self.entries = entries;
        }
        self.built_at = generation;
        self.genctr
    }

    /// The entries last built.
    pub(crate) fn entries(&self) -> &[DiscoveryEntry] {
        &self.entries
    }

    /// GENCTR of the entries last built.
    pub(crate) fn genctr(&self) -> u64 {
        self.genctr
    }

    /// Whether the entries were built at the target's `generation`: until it moves, no
    /// log built again would differ.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.built_at == generation
    }
}

impl Target {
    /// Records a change of what discovery logs list: the target's generation moves, under
    /// the registry lock and in [`Target::disc_gen`], so discovery controllers build their
    /// hosts' logs again and compare ([`DiscoveryView`]).
    pub(super) fn discovery_changed(&self, r: &mut Registry) {
        r.disc_generation += 1;
        self.disc_gen.store(r.disc_generation, Ordering::Release);
    }

    /// The target's discovery generation as of the last change (as
    /// [`discovery_log`](Self::discovery_log) returns it), without the registry lock.
    pub fn discovery_generation(&self) -> u64 {
        self.disc_gen.load(Ordering::Acquire)
    }

    /// Adds a listener to the discovery log (a discovery-only one to the logs served
    /// through it alone). The caller binds the socket.
    pub fn add_listener(&self, l: ListenerSpec) -> Result<(), RegistryError> {
        let mut r = self.lock();
        if let Some(x) = r.listeners.get(&l.port_id) {
            return Err(RegistryError::PortIdTaken { port_id: l.port_id, by: x.addr });
        }
        if r.listeners.values().any(|x| x.addr == l.addr) {
            return Err(RegistryError::ListenerExists(l.addr.to_string()));
        }
        r.listeners.insert(l.port_id, l);
        self.discovery_changed(&mut r);
        Ok(())
    }

    /// Removes a listener from the discovery log, and its port's ANA states: a listener
    /// added later under this port ID starts all optimized.
    pub fn remove_listener(&self, port_id: u16) -> Result<(), RegistryError> {
        self.take_listener(port_id, false)
    }

    /// Removes a listener from the discovery log to bind it anew, keeping its port's ANA
    /// states for the controllers that stay connected through it meanwhile: a path the
    /// operator made Inaccessible must not serve I/O while its socket moves. The new
    /// binding's states replace them ([`Target::set_ana_states`]).
    pub fn unbind_listener(&self, port_id: u16) -> Result<(), RegistryError> {
        self.take_listener(port_id, true)
    }

    fn take_listener(&self, port_id: u16, keep_ana_states: bool) -> Result<(), RegistryError> {
        let mut r = self.lock();
        let removed = r
            .listeners
            .remove(&port_id)
            .ok_or_else(|| RegistryError::NoListener(port_id.to_string()))?;
        r.referrals.remove(&removed.addr);
        if !keep_ana_states && r.ana.remove(&port_id).is_some() {
            r.ana_changes.retain(|(p, _), _| *p != port_id);
            r.ana_chgcnt += 1;
            self.ns_epoch.fetch_add(1, Ordering::Release);
        }
        self.discovery_changed(&mut r);
        Ok(())
    }

    /// Ends the controllers whose admin queue connected through listener `port_id`
    /// (deleted); their queues close at their next tick.
    pub fn end_controllers_through(&self, port_id: u16) {
        let r = self.lock();
        for s in r.subsystems.values() {
            for c in s.controllers.values().filter(|c| c.port_id == Some(port_id)) {
                c.end();
            }
        }
    }

    /// The header and data digests listener `port_id` allows its new connections.
    pub fn listener_digests(&self, port_id: u16) -> Option<(bool, bool)> {
        self.lock().listeners.get(&port_id).map(|l| (l.allow_hdgst, l.allow_ddgst))
    }

    /// Sets the digests listener `port_id` allows (what its connections accepted from now
    /// on may negotiate; the discovery log does not carry them).
    pub fn set_listener_digests(
        &self,
        port_id: u16,
        allow_hdgst: bool,
        allow_ddgst: bool,
    ) -> Result<(), RegistryError> {
        let mut r = self.lock();
        let l = r
            .listeners
            .get_mut(&port_id)
            .ok_or_else(|| RegistryError::NoListener(port_id.to_string()))?;
        (l.allow_hdgst, l.allow_ddgst) = (allow_hdgst, allow_ddgst);
        Ok(())
    }

    /// Sets the discovery services that hosts discovering through the listener bound to
    /// `listener` are referred to (a discovery-only listener's too; `nvme connect-all`
    /// follows referrals). A change moves the generation counter, and connected
    /// discovery controllers that asked for it get a Discovery Log Page Change notice.
    pub fn set_referrals(&self, listener: SocketAddr, to: &[SocketAddr]) {
        let mut r = self.lock();
        let old = r.referrals.get(&listener).map_or(&[][..], Vec::as_slice);
        if old == to {
            return;
        }
        if to.is_empty() {
            r.referrals.remove(&listener);
        } else {
            r.referrals.insert(listener, to.to_vec());
        }
        self.discovery_changed(&mut r);
    }

    /// The listener with `port_id`.
    pub fn listener(&self, port_id: u16) -> Option<ListenerSpec> {
        self.lock().listeners.get(&port_id).cloned()
    }

    /// The listeners.
    pub fn listeners(&self) -> Vec<ListenerSpec> {
        self.lock().listeners.values().cloned().collect()
    }

    /// The target's discovery generation and the entries `hostnqn` may see through the
    /// listener bound to `through` (a discovery controller's GENCTR follows the entries
    /// alone: [`DiscoveryView`]): the discovery subsystem at that listener itself
    /// (first, as Linux's nvmet lists it), one entry per (allowed subsystem, listener),
    /// then the listener's referrals.
    pub fn discovery_log(
        &self,
        hostnqn: &str,
        through: Option<SocketAddr>,
    ) -> (u64, Vec<DiscoveryEntry>) {
        let r = self.lock();
        let mut out = Vec::new();
        if let Some(addr) = through {
            // 0 only for an address no listener is bound to (tests driving a connection).
            let port_id = r.listeners.values().find(|l| l.addr == addr).map_or(0, |l| l.port_id);
            out.push(DiscoveryEntry {
                subtype: DiscoverySubtype::CurrentDiscovery,
                subnqn: DISCOVERY_NQN.to_owned(),
                port_id,
                addr,
            });
        }
        for s in r.subsystems.values().filter(|s| s.spec.allows(hostnqn)) {
            for l in r.listeners.values().filter(|l| !l.discovery_only) {
                out.push(DiscoveryEntry {
                    subtype: DiscoverySubtype::Nvm,
                    subnqn: s.spec.nqn.clone(),
                    port_id: l.port_id,
                    addr: l.addr,
                });
            }
        }
        let referrals = through.and_then(|l| r.referrals.get(&l)).into_iter().flatten();
        out.extend(referrals.map(|&addr| DiscoveryEntry {
            subtype: DiscoverySubtype::Referral,
            subnqn: DISCOVERY_NQN.to_owned(),
            port_id: 0,
            addr,
        }));
        (r.disc_generation, out)
    }
}

#[cfg(test)]
impl ListenerSpec {
    /// Port 1 on 127.0.0.1:4420, both digests allowed: the registry's tests' listener.
    pub(crate) fn loopback_for_tests() -> Self {
        Self {
            port_id: 1,
            addr: SocketAddr::from(([127, 0, 0, 1], 4420)),
            allow_hdgst: true,
            allow_ddgst: true,
            discovery_only: false,
        }
    }
}

/// The lowest port ID (1..=65535; 0 is not one) not in `taken`: what a listener that names
/// none gets, from the agent at Create or from the service for an older agent's Sync.
pub fn lowest_free_port_id(taken: &BTreeSet<u16>) -> Option<u16> {
    (1..=u16::MAX).find(|id| !taken.contains(id))
}
