//! Asymmetric Namespace Access (NVMe Base 2.0 §8.1.3): the state of each ANA group
//! through each listener, the group a namespace is in, and what the ANA log page shows
//! of them (§5.16.1.12). A change moves the log's Change Count and queues an ANA change
//! notice for the controllers concerned.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{
    ANA_GROUP_MAX, Controller, DEFAULT_ANA_GROUP, Namespace, Registry, RegistryError, Subsystem,
    Target,
};

/// ANA Transition Time (Identify Controller ANATT, [`crate::identify::ANATT`]).
pub const ANA_TRANSITION_TIME: Duration = Duration::from_secs(crate::identify::ANATT as u64);

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
        notify_ana_change(s, ns, chgcnt, None);
        r.ana_chgcnt = chgcnt;
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Sets the ANA states listener `port_id` shows (groups not named: optimized) at `now`.
    /// When they change, every controller connected through the listener gets an ANA
    /// change notice, and I/O through it follows the new states at once. A group that
    /// goes into Change starts its transition at `now`, which
    /// [`end_ana_changes`](Self::end_ana_changes) ends after ANATT; one that stays in
    /// Change keeps its start, or its end.
    pub fn set_ana_states(
        &self,
        port_id: u16,
        states: &BTreeMap<u32, AnaState>,
        now: Instant,
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
        let old = r.ana.get(&port_id);
        if old.map_or(states.is_empty(), |old| *old == states) {
            return Ok(());
        }
        let in_change =
            |s: &BTreeMap<u32, AnaState>, group: u32| s.get(&group) == Some(&AnaState::Change);
        let started: Vec<u32> = states
            .keys()
            .copied()
            .filter(|g| in_change(&states, *g) && !old.is_some_and(|old| in_change(old, *g)))
            .collect();
        r.ana_changes.retain(|(p, g), _| *p != port_id || in_change(&states, *g));
        for &group in &started {
            r.ana_changes.insert((port_id, group), AnaChange::Since(now));
        }
        if !started.is_empty() {
            self.ana_changes_started.notify_one();
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

    /// Ends the ANA transitions that have lasted [`ANA_TRANSITION_TIME`] at `now` (NVMe
    /// Base 2.0 §8.1.3.5: a controller leaves ANA Change within ANATT): each such group
    /// is reported Inaccessible through its listener from then on, until the
    /// operator sets another state (a host sends I/O down its other paths and waits for
    /// this one no more, where a Linux host resets its controller each time a group stays
    /// in Change past its ANATT timer). The change count moves, and the controllers
    /// connected through the listener whose ANA log lists the group get an ANA change
    /// notice. Returns the (listener port ID, group) pairs it ended.
    pub fn end_ana_changes(&self, now: Instant) -> Vec<(u16, u32)> {
        let mut r = self.lock();
        let lasted = |at: &Instant| now.saturating_duration_since(*at) >= ANA_TRANSITION_TIME;
        let ended: Vec<(u16, u32)> = r
            .ana_changes
            .iter()
            .filter(|(_, c)| matches!(c, AnaChange::Since(at) if lasted(at)))
            .map(|(k, _)| *k)
            .collect();
        if ended.is_empty() {
            return ended;
        }
        r.ana_chgcnt += 1;
        let chgcnt = r.ana_chgcnt;
        for &(port_id, group) in &ended {
            r.ana_changes.insert((port_id, group), AnaChange::Ended);
            notify_group_change(&r, port_id, group, chgcnt);
        }
        self.ns_epoch.fetch_add(1, Ordering::Release);
        ended
    }

    /// Starts the ANA transitions of `groups` through listener `port_id` again at `now`,
    /// those in Change: the operator set Change anew, though the states
    /// [`set_ana_states`](Self::set_ana_states) is given repeat those it shows (the agent
    /// coalesced Change, another state and Change again into one Sync). One that had ended
    /// is reported Change again, the change count moving and the controllers whose ANA log
    /// lists the group getting an ANA change notice; one under way counts from `now`.
    pub fn restart_ana_changes(&self, port_id: u16, groups: &[u32], now: Instant) {
        let mut r = self.lock();
        let in_change = |g: &u32| {
            r.ana.get(&port_id).and_then(|states| states.get(g)) == Some(&AnaState::Change)
        };
        let restarted: Vec<u32> = groups.iter().copied().filter(in_change).collect();
        if restarted.is_empty() {
            return;
        }
        let mut shown_again = Vec::new();
        for &group in &restarted {
            let was = r.ana_changes.insert((port_id, group), AnaChange::Since(now));
            if was == Some(AnaChange::Ended) {
                shown_again.push(group);
            }
        }
        self.ana_changes_started.notify_one();
        if shown_again.is_empty() {
            return;
        }
        r.ana_chgcnt += 1;
        let chgcnt = r.ana_chgcnt;
        for group in shown_again {
            notify_group_change(&r, port_id, group, chgcnt);
        }
        self.ns_epoch.fetch_add(1, Ordering::Release);
    }

    /// When the earliest ANA transition under way has lasted [`ANA_TRANSITION_TIME`], if
    /// one is under way.
    pub fn next_ana_change_end(&self) -> Option<Instant> {
        let r = self.lock();
        let starts = r.ana_changes.values().filter_map(|c| match c {
            AnaChange::Since(at) => Some(*at),
            AnaChange::Ended => None,
        });
        starts.min().and_then(|at| at.checked_add(ANA_TRANSITION_TIME))
    }

    /// Completes once a group went into Change ([`set_ana_states`](Self::set_ana_states))
    /// since it last completed: whoever drives [`end_ana_changes`](Self::end_ana_changes)
    /// then reads [`next_ana_change_end`](Self::next_ana_change_end) again.
    pub async fn ana_change_started(&self) {
        self.ana_changes_started.notified().await;
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
/// for the controllers of subsystem `s` whose hosts see `ns` (their ANA log lists it),
/// those connected through listener `port_id` alone if one is named.
pub(super) fn notify_ana_change(s: &Subsystem, ns: &Namespace, chgcnt: u64, port_id: Option<u16>) {
    let concerned = |c: &&Arc<Controller>| {
        ns.visible_to(&c.hostnqn) && port_id.is_none_or(|p| c.port_id == Some(p))
    };
    for c in s.controllers.values().filter(concerned) {
        c.state().push_ana_notice(chgcnt);
    }
}

/// Queues an ANA change notice, for the change that made the ANA Change Count `chgcnt`, for
/// the controllers connected through listener `port_id` whose ANA log lists group `group`
/// (its state through that listener changed).
fn notify_group_change(r: &Registry, port_id: u16, group: u32, chgcnt: u64) {
    for s in r.subsystems.values() {
        // The default group is in every log of the subsystem; another, in the logs of the
        // hosts that see one of its namespaces.
        if group == DEFAULT_ANA_GROUP {
            for c in s.controllers.values().filter(|c| c.port_id == Some(port_id)) {
                c.state().push_ana_notice(chgcnt);
            }
            continue;
        }
        let in_group = |ns: &&Arc<Namespace>| ns.ana_group.load(Ordering::Relaxed) == group;
        for ns in s.namespaces.values().filter(in_group) {
            notify_ana_change(s, ns, chgcnt, Some(port_id));
        }
    }
}

/// A group the operator set to Change through a listener ([`Target::set_ana_states`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AnaChange {
    /// In transition since then.
    Since(Instant),
    /// Past ANATT ([`Target::end_ana_changes`]): reported Inaccessible.
    Ended,
}

/// The state of ANA group `group` through listener `port_id` as hosts are told it: the
/// operator's, but Inaccessible for a Change that lasted ANATT.
pub(super) fn ana_state_of(r: &Registry, port_id: Option<u16>, group: u32) -> AnaState {
    let Some(port_id) = port_id else { return AnaState::Optimized };
    match r.ana.get(&port_id).and_then(|states| states.get(&group)).copied() {
        Some(AnaState::Change)
            if r.ana_changes.get(&(port_id, group)) == Some(&AnaChange::Ended) =>
        {
            AnaState::Inaccessible
        }
        state => state.unwrap_or_default(),
    }
}
