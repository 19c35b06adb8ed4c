//! The agent's write requests as an mTLS client with write access sends them: arbitrary bytes
//! decoded (prost) as Create and Update requests of every resource kind (sysctls; nvmf
//! volumes, subsystems, namespaces, listeners; the seven switch kinds), each judged by the
//! checks its handler runs before it stores anything, in the handler's order: the request's
//! own fields (`CreateRequest`/`UpdateRequest::checked`), the resource message
//! (`create_message`/`update_message`), the spec an Update leaves (`updated_spec`, merged by
//! mask over what an earlier request of the input stored), `Kind::validate`, and for switch
//! kinds the whole desired state the write leaves (`Desired::check_edit`). The nvmf
//! references (a namespace's subsystem and volume, unique NQNs and addresses) read the
//! store and are not run here.
//!
//! Input: records of a selector byte (kind and Create or Update), a little-endian u16
//! length and that many bytes of the request; an accepted write is stored (in memory) for
//! the records after it. The seed (`seeds/dpud_api`) is a Create of every kind and an
//! Update of most, each accepted, in an order that meets the switch's references.
//!
//! Properties: no panic; a spec the checks accept, in its stored form (`Kind::canonical`), is
//! accepted again and is its own stored form; and sent back as a Get shows it (write-only
//! secrets blank), whole, it updates to the same stored spec: a round trip changes nothing.
#![no_main]

use std::collections::BTreeMap;

use dpu_proto::dpu::nvmf::v1 as nvmf;
use dpu_proto::dpu::switch::v1 as switch;
use dpu_proto::dpu::system::v1 as system;
use dpud::api::nvmf::{ListenerKind, NamespaceKind, SubsystemKind, VolumeKind};
use dpud::api::resource::{
    CreateRequest, Kind, UpdateRequest, create_message, update_message, updated_spec,
};
use dpud::api::switch::desired::{Desired, InDesired};
use dpud::api::switch::kinds::{
    BridgeKind, PortKind, RouteKind, StaticMacKind, SviKind, VrfKind, VtepKind,
};
use dpud::api::system::SysctlKind;
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// Records judged per input at most: the switch's whole-state check grows with the state.
const MAX_RECORDS: usize = 24;

/// What the accepted writes of an input stored: every spec by store key (encoded), and
/// the switch's desired state by public name.
#[derive(Default)]
struct State {
    stored: BTreeMap<String, Vec<u8>>,
    switch: Desired,
}

/// The checks a kind's handler runs against the state besides the spec's own, and how an
/// accepted write changes that state; a Get's view of a stored spec.
trait Judged: Kind<Spec: PartialEq + std::fmt::Debug> {
    fn state_accepts(_state: &State, _name: &str, _spec: &Self::Spec) -> bool {
        true
    }
    fn written(_state: &mut State, _name: &str, _spec: &Self::Spec) {}
    fn shown(spec: &Self::Spec) -> Self::Spec {
        spec.clone()
    }
}

impl Judged for SysctlKind {}
impl Judged for VolumeKind {}
impl Judged for NamespaceKind {}
impl Judged for ListenerKind {
    /// Replies show no ANA `set_revision` (`ListenerKind::to_proto`).
    fn shown(spec: &nvmf::ListenerSpec) -> nvmf::ListenerSpec {
        spec.clone().without_ana_revisions()
    }
}
impl Judged for SubsystemKind {
    /// Every reply blanks the write-only secrets (`SubsystemKind::to_proto`).
    fn shown(spec: &nvmf::SubsystemSpec) -> nvmf::SubsystemSpec {
        spec.clone().without_secrets()
    }
}

macro_rules! switch_kinds {
    ($($kind:ty),*) => {
        $(impl Judged for $kind {
            fn state_accepts(state: &State, name: &str, spec: &Self::Spec) -> bool {
                state.switch.check_edit(|d| Self::write(d, name.to_owned(), spec.clone())).is_ok()
            }
            fn written(state: &mut State, name: &str, spec: &Self::Spec) {
                Self::write(&mut state.switch, name.to_owned(), spec.clone());
            }
        })*
    };
}

switch_kinds!(BridgeKind, PortKind, VtepKind, VrfKind, RouteKind, SviKind, StaticMacKind);

/// The spec as stored after `Kind::validate` accepted it: its canonical form, which must
/// itself be accepted and canonical.
fn stored_form<K: Judged>(spec: &K::Spec) -> Option<K::Spec> {
    K::validate(spec, "spec").ok()?;
    let mut canonical = spec.clone();
    K::canonical(&mut canonical);
    if let Err(e) = K::validate(&canonical, "spec") {
        panic!("{}: the stored form of an accepted spec is refused: {e:?}", K::FIELD);
    }
    let mut again = canonical.clone();
    K::canonical(&mut again);
    assert_eq!(again, canonical, "{}: the stored form is not canonical", K::FIELD);
    Some(canonical)
}

/// Stores `spec` under `key` (public name `name`) and checks that a Get's view of it sent
/// back whole changes nothing.
fn store<K: Judged>(state: &mut State, key: String, name: &str, spec: K::Spec) {
    let shown = K::shown(&spec);
    let mut back = updated_spec::<K>(Some(&spec), &shown, None);
    // What the handler notes of the write (`Kind::mark_written`): nothing set anew here.
    K::mark_written(&mut back, Some(&spec), 0);
    match stored_form::<K>(&back) {
        Some(again) => assert_eq!(again, spec, "{}: a Get sent back changes the spec", K::FIELD),
        None => panic!("{}: a Get sent back is refused", K::FIELD),
    }
    K::written(state, name, &spec);
    state.stored.insert(key, spec.encode_to_vec());
}

fn create<R>(state: &mut State, bytes: &[u8])
where
    R: CreateRequest + Message + Default,
    R::Kind: Judged,
{
    let Ok(req) = R::decode(bytes) else { return };
    let Ok((name, given_name, spec)) = req.checked() else { return };
    let Ok((key, spec)) = create_message::<R::Kind>(&name, given_name, spec) else { return };
    if state.stored.contains_key(&key) {
        return; // ALREADY_EXISTS, before the spec is judged.
    }
    let Some(spec) = stored_form::<R::Kind>(spec) else { return };
    if R::Kind::state_accepts(state, &name, &spec) {
        store::<R::Kind>(state, key, &name, spec);
    }
}

fn update<R>(state: &mut State, bytes: &[u8])
where
    R: UpdateRequest + Message + Default,
    R::Kind: Judged,
{
    let Ok(req) = R::decode(bytes) else { return };
    let Ok(u) = req.checked() else { return };
    let Ok((key, spec)) = update_message::<R::Kind>(u.name, u.spec, u.mask) else { return };
    let current = match state.stored.get(&key) {
        Some(bytes) => match <R::Kind as Kind>::Spec::decode(bytes.as_slice()) {
            Ok(spec) => Some(spec),
            Err(e) => panic!("a stored spec does not decode: {e}"),
        },
        None if !u.allow_missing => return, // NOT_FOUND
        None => None,
    };
    let new = updated_spec::<R::Kind>(current.as_ref(), spec, u.mask);
    let Some(new) = stored_form::<R::Kind>(&new) else { return };
    // Stored under its public name: the key's inverse.
    let name = R::Kind::public_name(&key);
    if R::Kind::state_accepts(state, &name, &new) {
        store::<R::Kind>(state, key, &name, new);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut state = State::default();
    let mut rest = data;
    for _ in 0..MAX_RECORDS {
        let [sel, lo, hi, tail @ ..] = rest else { break };
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (bytes, next) = tail.split_at(len);
        rest = next;
        let s = &mut state;
        match sel % 24 {
            0 => create::<system::CreateSysctlRequest>(s, bytes),
            1 => update::<system::UpdateSysctlRequest>(s, bytes),
            2 => create::<nvmf::CreateVolumeRequest>(s, bytes),
            3 => update::<nvmf::UpdateVolumeRequest>(s, bytes),
            4 => create::<nvmf::CreateSubsystemRequest>(s, bytes),
            5 => update::<nvmf::UpdateSubsystemRequest>(s, bytes),
            6 => create::<nvmf::CreateNamespaceRequest>(s, bytes),
            7 => update::<nvmf::UpdateNamespaceRequest>(s, bytes),
            8 => create::<nvmf::CreateListenerRequest>(s, bytes),
            9 => update::<nvmf::UpdateListenerRequest>(s, bytes),
            10 => create::<switch::CreateBridgeRequest>(s, bytes),
            11 => update::<switch::UpdateBridgeRequest>(s, bytes),
            12 => create::<switch::CreatePortRequest>(s, bytes),
            13 => update::<switch::UpdatePortRequest>(s, bytes),
            14 => create::<switch::CreateVtepRequest>(s, bytes),
            15 => update::<switch::UpdateVtepRequest>(s, bytes),
            16 => create::<switch::CreateVrfRequest>(s, bytes),
            17 => update::<switch::UpdateVrfRequest>(s, bytes),
            18 => create::<switch::CreateRouteRequest>(s, bytes),
            19 => update::<switch::UpdateRouteRequest>(s, bytes),
            20 => create::<switch::CreateSviRequest>(s, bytes),
            21 => update::<switch::UpdateSviRequest>(s, bytes),
            22 => create::<switch::CreateStaticMacRequest>(s, bytes),
            _ => update::<switch::UpdateStaticMacRequest>(s, bytes),
        }
    }
});
