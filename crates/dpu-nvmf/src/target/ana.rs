//! Asymmetric Namespace Access (NVMe Base 2.0 §8.1.3): the state of each ANA group
//! through each listener, the group a namespace is in, and what the ANA log page shows
//! of them (§5.16.1.12). A change moves the log's Change Count and queues an ANA change
//! notice for the controllers concerned.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::{
    ANA_GROUP_MAX, DEFAULT_ANA_GROUP, Namespace, Registry, RegistryError, Subsystem, Target,
};

/// The state of an ANA group as seen through one listener (NVMe Base 2.0 §8.1.3.1-5; the
/// values are the ANA log page's). A listener shows every group it was not told about as
/// optimized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnaState {
    /// Optimized: the preferred path.
    #[default]
    Optimized = 0x01,
    /// Non-optimized: serves I/O; a host prefers an optimized path.
    NonOptimized = 0x02,
    /// Inaccessible: I/O fails with ANA Inaccessible (hosts retry on another path).
    Inaccessible = 0x03,
    /// Persistent loss: I/O fails with ANA Persistent Loss.
    PersistentLoss = 0x04,
    /// Change: in transition; I/O fails with ANA Transition.
    Change = 0x0F,
}

impl AnaState {
    /// Whether a namespace in this state serves I/O commands through the listener.
    pub fn serves_io(self) -> bool {
        matches!(self, Self::Optimized | Self::NonOptimized)
    }
}

impl Target {
    /// Moves a namespace to ANA group `group`; the controllers of the hosts that see it get
    /// an ANA change notice (their hosts re-read the ANA log, which lists the NSID under
    /// its new group; another host's log does not list it).
    pub fn set_ana_group(&self, nqn: &str, nsid: u32, group: u32) -> Result<(), RegistryError> {
        check_ana_group(group)?;
        let mut r = self.lock();
        let chgcnt = r.ana_chgcnt + 1;
        let s = r.subsystems.get(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        let ns = s.namespace(nqn, nsid)?;
        if ns.ana_group.swap(group, Ordering::Relaxed) == group {
            return Ok(());
        }
        notify_ana_change(s, ns, chgcnt);
        r.ana_chgcnt = chgcnt;
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Sets the ANA states listener `port_id` shows (groups not named: optimized). When
    /// they change, every controller connected through the listener gets an ANA change
    /// notice, and I/O through it follows the new states at once.
    pub fn set_ana_states(
        &self,
        port_id: u16,
        states: &BTreeMap<u32, AnaState>,
    ) -> Result<(), RegistryError> {
        for &group in states.keys() {
            check_ana_group(group)?;
        }
        let states: BTreeMap<u32, AnaState> = states
            .iter()
            .filter(|(_, s)| **s != AnaState::Optimized)
            .map(|(g, s)| (*g, *s))
            .collect();
        let mut r = self.lock();
        if !r.listeners.contains_key(&port_id) {
            return Err(RegistryError::NoListener(port_id.to_string()));
        }
        if r.ana.get(&port_id).map_or(states.is_empty(), |old| *old == states) {
            return Ok(());
        }
        if states.is_empty() {
            r.ana.remove(&port_id);
        } else {
            r.ana.insert(port_id, states);
        }
        r.ana_chgcnt += 1;
        let chgcnt = r.ana_chgcnt;
        let through_port = r.subsystems.values().flat_map(|s| s.controllers.values());
        for c in through_port.filter(|c| c.port_id == Some(port_id)) {
            c.state().push_ana_notice(chgcnt);
        }
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// The state of ANA group `group` through listener `port_id` (`None`: optimized).
    pub fn ana_state(&self, port_id: Option<u16>, group: u32) -> AnaState {
        let r = self.lock();
        ana_state_of(&r, port_id, group)
    }

    /// The ANA log page's content for a controller of `nqn` connected through `port_id`
    /// (§5.16.1.12): its Change Count and, in group order, each group that holds a
    /// namespace of the subsystem (and the default group) with its state and NSIDs,
    /// ascending.
    pub fn ana_groups(
        &self,
        nqn: &str,
        hostnqn: &str,
        port_id: Option<u16>,
    ) -> (u64, Vec<AnaGroup>) {
        let r = self.lock();
        let mut groups: BTreeMap<u32, Vec<u32>> = BTreeMap::from([(DEFAULT_ANA_GROUP, Vec::new())]);
        if let Some(s) = r.subsystems.get(nqn) {
            for ns in s.namespaces.values().filter(|ns| ns.visible_to(hostnqn)) {
                groups.entry(ns.ana_group.load(Ordering::Relaxed)).or_default().push(ns.nsid);
            }
        }
        let groups = groups
            .into_iter()
            .map(|(id, nsids)| AnaGroup { id, state: ana_state_of(&r, port_id, id), nsids })
            .collect();
        (r.ana_chgcnt, groups)
    }
}

/// An ANA group as a controller sees it ([`Target::ana_groups`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnaGroup {
    /// ANAGRPID.
    pub id: u32,
    /// Its state through the controller's listener.
    pub state: AnaState,
    /// The subsystem's namespaces in it, ascending.
    pub nsids: Vec<u32>,
}

/// Checks an ANA group ID (1..=[`ANA_GROUP_MAX`]).
pub fn check_ana_group(group: u32) -> Result<(), RegistryError> {
    if (1..=ANA_GROUP_MAX).contains(&group) {
        Ok(())
    } else {
        Err(RegistryError::BadAnaGroup(group))
    }
}

/// Queues an ANA change notice, for the change that made the ANA Change Count `chgcnt`,
/// for the controllers of subsystem `s` whose hosts see `ns` (their ANA log lists it).
pub(super) fn notify_ana_change(s: &Subsystem, ns: &Namespace, chgcnt: u64) {
    for c in s.controllers.values().filter(|c| ns.visible_to(&c.hostnqn)) {
        c.state().push_ana_notice(chgcnt);
    }
}

pub(super) fn ana_state_of(r: &Registry, port_id: Option<u16>, group: u32) -> AnaState {
    port_id.and_then(|p| r.ana.get(&p)?.get(&group).copied()).unwrap_or_default()
}
