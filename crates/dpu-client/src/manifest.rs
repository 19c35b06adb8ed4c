//! Manifests: the declarative documents `dpuctl apply -f` reads (YAML, several documents per
//! file, or JSON).
//!
//! ```yaml
//! kind: Sysctl
//! name: net.ipv4.ip_forward
//! spec:
//!   value: "1"
//! ```
//!
//! Kinds: `Sysctl` (`name` is the key), `Volume`, `Subsystem`, `Listener` (`name` is the id),
//! `Namespace` (`name` is `SUBSYSTEM/namespaces/NSID`, under its subsystem as in the API), and
//! the switch's `Bridge`, `Port` (the interface name), `Vtep`, `Vrf`, `Svi`, `Route`
//! (`VRF/routes/ID`) and `StaticMac` (`BRIDGE/static-macs/ID`).
//!
//! The `spec` follows the proto3 JSON mapping of the resource's spec message, so every field
//! of the API can be written and an unknown field is an error, not a silent no-op.
//!
//! What `dpuctl get -o yaml|json` prints is a manifest too ([`crate::output::Document`]): the
//! fields the agent adds (`status`, `generation`, `etag`, `createTime`, `updateTime`) are
//! ignored, and a document that is a list (what `list` prints) holds its items' objects.

use std::collections::HashMap;

use dpu_proto::dpu::nvmf::v1::{ListenerSpec, NamespaceSpec, SubsystemSpec, VolumeSpec};
use dpu_proto::dpu::system::v1::SysctlSpec;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::switch::SwitchSpec;

/// Most documents one manifest file may hold.
const MAX_DOCUMENTS: usize = 100_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ManifestError {
    #[error("document {doc}: {message}")]
    Document { doc: usize, message: String },
    #[error("more than {MAX_DOCUMENTS} documents")]
    TooMany,
}

/// A resource kind: its manifest name, the CLI words for it and its API collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub kind: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    /// First segment of the API name: `{collection}/{id}`.
    pub collection: &'static str,
    /// For kinds nested under a parent: the child collection (`{collection}/{p}/{child}/{id}`).
    pub child: Option<&'static str>,
}

/// A kind whose objects are `{collection}/{id}`.
const fn top(kind: &'static str, singular: &'static str, plural: &'static str) -> Kind {
    Kind { kind, singular, plural, collection: plural, child: None }
}

/// A kind whose objects live under a parent: `{collection}/{parent}/{child}/{id}`.
const fn nested(
    kind: &'static str,
    singular: &'static str,
    plural: &'static str,
    collection: &'static str,
    child: &'static str,
) -> Kind {
    Kind { kind, singular, plural, collection, child: Some(child) }
}

pub const SYSCTL: Kind = top("Sysctl", "sysctl", "sysctls");
pub const VOLUME: Kind = top("Volume", "volume", "volumes");
pub const SUBSYSTEM: Kind = top("Subsystem", "subsystem", "subsystems");
/// Namespaces live under their subsystem: the id is `s1/namespaces/1`.
pub const NAMESPACE: Kind =
    nested("Namespace", "namespace", "namespaces", "subsystems", "namespaces");
pub const LISTENER: Kind = top("Listener", "listener", "listeners");
pub const BRIDGE: Kind = top("Bridge", "bridge", "bridges");
/// A switch port; its id is the interface it binds (`pf0vf0`).
pub const PORT: Kind = top("Port", "port", "ports");
pub const VTEP: Kind = top("Vtep", "vtep", "vteps");
pub const VRF: Kind = top("Vrf", "vrf", "vrfs");
pub const SVI: Kind = top("Svi", "svi", "svis");
/// Routes live under their VRF: the id is `red/routes/default`.
pub const ROUTE: Kind = nested("Route", "route", "routes", "vrfs", "routes");
/// Static MACs live under their bridge: the id is `blue/static-macs/printer`.
pub const STATIC_MAC: Kind =
    nested("StaticMac", "static-mac", "static-macs", "bridges", "static-macs");
pub const KINDS: &[Kind] = &[
    SYSCTL, VOLUME, SUBSYSTEM, NAMESPACE, LISTENER, BRIDGE, PORT, VTEP, VRF, SVI, ROUTE, STATIC_MAC,
];

/// Finds a kind by any of its names, case-insensitively ("Sysctl", "sysctl", "sysctls").
pub fn kind(word: &str) -> Option<Kind> {
    let w = word.to_ascii_lowercase();
    KINDS
        .iter()
        .copied()
        .find(|k| k.kind.eq_ignore_ascii_case(&w) || k.singular == w || k.plural == w)
}

impl Kind {
    /// The API the kind belongs to, its proto package: what a manifest's `apiVersion`, if
    /// given, must name (as kubectl refuses a kind in a version it does not serve).
    pub fn api_version(&self) -> &'static str {
        match self.kind {
            "Sysctl" => "dpu.system.v1",
            "Volume" | "Subsystem" | "Namespace" | "Listener" => "dpu.nvmf.v1",
            _ => "dpu.switch.v1",
        }
    }

    /// The agent's service that applies the kind, as its configuration (`[[services]]
    /// name`) and its health name it.
    pub fn service(&self) -> &'static str {
        match self.api_version() {
            "dpu.system.v1" => "system",
            "dpu.nvmf.v1" => "nvmf",
            _ => "switch",
        }
    }

    /// The API name of `name`, which may be the id or already the full name.
    pub fn full_name(&self, name: &str) -> String {
        let full = name.starts_with(&format!("{}/", self.collection))
            && (self.child.is_none() || name.matches('/').count() == 3);
        if full { name.to_owned() } else { format!("{}/{name}", self.collection) }
    }

    /// The id of `name`, which may be the id or already the full name (the inverse of
    /// [`full_name`](Self::full_name)).
    pub fn id_of<'a>(&self, name: &'a str) -> &'a str {
        if self.full_name(name) == name { &name[self.collection.len() + 1..] } else { name }
    }

    /// Whether the switch service serves this kind.
    pub fn is_switch(&self) -> bool {
        [BRIDGE, PORT, VTEP, VRF, SVI, ROUTE, STATIC_MAC].contains(self)
    }
}

/// One desired object.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Sysctl { id: String, spec: SysctlSpec },
    Volume { id: String, spec: VolumeSpec },
    Subsystem { id: String, spec: SubsystemSpec },
    Namespace { id: String, spec: NamespaceSpec },
    Listener { id: String, spec: ListenerSpec },
    Switch { id: String, spec: SwitchSpec },
}

impl Resource {
    pub fn kind(&self) -> Kind {
        match self {
            Resource::Sysctl { .. } => SYSCTL,
            Resource::Volume { .. } => VOLUME,
            Resource::Subsystem { .. } => SUBSYSTEM,
            Resource::Namespace { .. } => NAMESPACE,
            Resource::Listener { .. } => LISTENER,
            Resource::Switch { spec, .. } => spec.kind(),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::Sysctl { id, .. }
            | Resource::Volume { id, .. }
            | Resource::Subsystem { id, .. }
            | Resource::Namespace { id, .. }
            | Resource::Listener { id, .. }
            | Resource::Switch { id, .. } => id,
        }
    }

    /// Apply order: an object may reference only objects of an earlier stage (a namespace its
    /// volume and subsystem), so apply runs stage by stage.
    pub fn stage(&self) -> u8 {
        match self {
            Resource::Namespace { .. } => 1,
            // Ports join bridges, SVIs join a bridge and a VRF; the VTEP needs its uplink port,
            // a route an SVI subnet for its next hop, a static MAC its port or the VTEP.
            Resource::Switch { spec, .. } => match spec {
                SwitchSpec::Bridge(_) | SwitchSpec::Vrf(_) => 0,
                SwitchSpec::Port(_) | SwitchSpec::Svi(_) => 1,
                SwitchSpec::Vtep(_) | SwitchSpec::Route(_) => 2,
                // A static MAC may name a remote VTEP, which needs the VTEP section.
                SwitchSpec::StaticMac(_) => 3,
            },
            _ => 0,
        }
    }

    /// The API name, `collection/id`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.kind().collection, self.id())
    }

    /// The resource as the agent shows it once stored: write-only fields (a subsystem's
    /// DH-HMAC-CHAP secrets) blank and an entry bidirectional when it has a controller
    /// secret or keeps the stored one, as `SubsystemSpec::shown_once_written` makes them.
    /// What apply and diff compare with the agent's copy, and all diff ever prints.
    pub fn shown(&self) -> Resource {
        match self {
            Resource::Subsystem { id, spec } => {
                Resource::Subsystem { id: id.clone(), spec: spec.clone().shown_once_written() }
            }
            other => other.clone(),
        }
    }

    /// The resource as apply and diff compare it with `current`, the agent's copy:
    /// [`shown`](Self::shown), and a volume's block size or a listener's transport, address
    /// and referrals spelled as the agent's when the two spell one value (a RAM or file
    /// volume's 0 and 512, an unset transport and TCP, `0:0:0:0:0:0:0:1` and `::1`, a
    /// referral's port 0 and 8009), since the agent keeps its spelling over an update that
    /// only respells it; a listener's port ID the agent's when the manifest names none,
    /// which the agent keeps.
    pub fn shown_against(&self, current: &Resource) -> Resource {
        let mut shown = self.shown();
        match (&mut shown, current) {
            (Resource::Volume { spec, .. }, Resource::Volume { spec: theirs, .. })
                if spec.canonical_block_size() == theirs.canonical_block_size() =>
            {
                spec.block_size = theirs.block_size;
            }
            (Resource::Listener { spec, .. }, Resource::Listener { spec: theirs, .. }) => {
                if spec.canonical_trtype() == theirs.canonical_trtype() {
                    spec.trtype = theirs.trtype;
                }
                // The agent stores an address in its canonical form (referrals' too, and
                // keeps their spelling over one that reads the same), and keeps the port ID
                // it gave a listener when a spec names none.
                let ip = dpu_proto::canonical_ip;
                if ip(&spec.address).is_some() && ip(&spec.address) == ip(&theirs.address) {
                    spec.address.clone_from(&theirs.address);
                }
                if spec.referral_addrs().is_ok_and(|r| Ok(r) == theirs.referral_addrs()) {
                    spec.referrals.clone_from(&theirs.referrals);
                }
                if spec.port_id == 0 {
                    spec.port_id = theirs.port_id;
                }
            }
            _ => {}
        }
        shown
    }

    /// Whether the resource carries write-only values the agent never shows, so a
    /// comparison with its copy cannot tell whether they changed.
    pub fn has_write_only(&self) -> bool {
        matches!(self, Resource::Subsystem { spec, .. } if spec.has_secrets())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    kind: String,
    name: String,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    spec: serde_json::Value,
    // What the agent adds to a resource, which `get -o yaml|json` prints beside the spec:
    // read and ignored (as kubectl ignores a manifest's status), so that output applies as
    // it is, while any other unknown field is still an error.
    #[serde(default, rename = "status")]
    _status: Option<IgnoredAny>,
    #[serde(default, rename = "generation")]
    _generation: Option<IgnoredAny>,
    #[serde(default, rename = "etag")]
    _etag: Option<IgnoredAny>,
    #[serde(default, rename = "createTime", alias = "create_time")]
    _create_time: Option<IgnoredAny>,
    #[serde(default, rename = "updateTime", alias = "update_time")]
    _update_time: Option<IgnoredAny>,
}

/// A spec from its JSON, an error naming the field at fault (`spec.ram.sizeBytes: ...`).
fn spec_from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match path.as_str() {
            "" | "." => format!("spec: {inner}"),
            path => format!("spec.{path}: {inner}"),
        }
    })
}

/// Refuses a volume spec naming more than one backend, which the mapping reads as a field
/// given twice (`duplicate field \`ram\``).
fn one_backend(spec: &serde_json::Value) -> Result<(), String> {
    let Some(fields) = spec.as_object() else { return Ok(()) };
    let given = |keys: &[&str]| keys.iter().any(|k| fields.get(*k).is_some_and(|v| !v.is_null()));
    let named: Vec<&str> = [
        ("ram", &["ram"][..]),
        ("file", &["file"]),
        ("blockDevice", &["blockDevice", "block_device"]),
    ]
    .into_iter()
    .filter(|(_, keys)| given(keys))
    .map(|(name, _)| name)
    .collect();
    match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => Err(format!(
            "spec: one backend only (ram, file or blockDevice); this one has {} and {last}",
            rest.join(", ")
        )),
        _ => Ok(()),
    }
}

/// A nested kind's manifest name is `PARENT/{child}/ID`.
fn check_nested(kind: Kind, id: &str) -> Result<(), String> {
    let Some(child) = kind.child else { return Ok(()) };
    let shape = id
        .split_once(&format!("/{child}/"))
        .is_some_and(|(p, c)| !p.is_empty() && !p.contains('/') && !c.is_empty());
    if shape {
        Ok(())
    } else {
        let parent = kind.collection.trim_end_matches('s').to_ascii_uppercase();
        let last = if kind.kind == "Namespace" { "NSID" } else { "ID" };
        Err(format!("a {} is named {parent}/{child}/{last}, got {id:?}", kind.kind))
    }
}

/// Parses every document of a manifest file. Empty documents are skipped; a document that
/// is a list (what `dpuctl list -o yaml|json` prints) holds its items' objects.
pub fn parse(text: &str) -> Result<Vec<Resource>, ManifestError> {
    let mut resources: Vec<Resource> = Vec::new();
    // Each object once: two documents of one object would be applied at the same time,
    // each undoing the other on every run.
    let mut documents: HashMap<String, usize> = HashMap::new();
    for (i, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let doc = i + 1;
        if doc > MAX_DOCUMENTS {
            return Err(ManifestError::TooMany);
        }
        let value = serde_yaml_ng::Value::deserialize(document)
            .map_err(|e| ManifestError::Document { doc, message: e.to_string() })?;
        let items = match value {
            serde_yaml_ng::Value::Null => continue,
            serde_yaml_ng::Value::Sequence(items) => {
                items.into_iter().enumerate().map(|(n, v)| (Some(n + 1), v)).collect()
            }
            one => vec![(None, one)],
        };
        for (item, value) in items {
            // Objects, not documents, are what a list multiplies.
            if resources.len() >= MAX_DOCUMENTS {
                return Err(ManifestError::TooMany);
            }
            let err = |message: String| {
                let message = match item {
                    Some(n) => format!("item {n}: {message}"),
                    None => message,
                };
                ManifestError::Document { doc, message }
            };
            let r = resource(value).map_err(err)?;
            if let Some(first) = documents.insert(r.full_name(), doc) {
                return Err(err(format!("{} is document {first} already", r.full_name())));
            }
            resources.push(r);
        }
    }
    Ok(resources)
}

/// The object of one document (or item of a list document).
fn resource(value: serde_yaml_ng::Value) -> Result<Resource, String> {
    let raw: Raw = serde_yaml_ng::from_value(value).map_err(|e| e.to_string())?;
    let Some(kind) = kind(&raw.kind) else {
        let known: Vec<_> = KINDS.iter().map(|k| k.kind).collect();
        return Err(format!("unknown kind {:?}; known: {}", raw.kind, known.join(", ")));
    };
    if let Some(version) = raw.api_version.as_deref()
        && version != kind.api_version()
    {
        return Err(format!(
            "apiVersion {version:?} does not serve kind {}; it is {:?}",
            kind.kind,
            kind.api_version()
        ));
    }
    // Named by id or, as on the command line, by full name (`volumes/v1`).
    let id = kind.id_of(&raw.name).to_owned();
    if id.is_empty() {
        return Err("name must not be empty".into());
    }
    let spec = raw.spec;
    Ok(match kind.kind {
        "Sysctl" => Resource::Sysctl { id, spec: spec_from(spec)? },
        "Volume" => {
            one_backend(&spec)?;
            Resource::Volume { id, spec: spec_from(spec)? }
        }
        "Subsystem" => Resource::Subsystem { id, spec: spec_from(spec)? },
        "Namespace" => {
            check_nested(kind, &id)?;
            Resource::Namespace { id, spec: spec_from(spec)? }
        }
        "Listener" => Resource::Listener { id, spec: spec_from(spec)? },
        other => {
            check_nested(kind, &id)?;
            match SwitchSpec::from_json(kind, spec) {
                Some(spec) => {
                    Resource::Switch { id, spec: spec.map_err(|e| format!("spec: {e}"))? }
                }
                None => return Err(format!("kind {other} cannot be applied")),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_documents() {
        let text = "kind: Sysctl\nname: net.ipv4.ip_forward\nspec:\n  value: \"1\"\n---\n---\n{\"kind\": \"sysctl\", \"name\": \"vm.swappiness\", \"spec\": {\"value\": \"10\"}}\n";
        let r = parse(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].full_name(), "sysctls/net.ipv4.ip_forward");
        assert_eq!(
            r[1],
            Resource::Sysctl {
                id: "vm.swappiness".into(),
                spec: SysctlSpec { value: "10".into() }
            }
        );
    }

    /// A document may name its object by full name, as `dpuctl get` and `delete` take it
    /// (and as `get -o yaml` shows it): it is the same object as the one named by id, not
    /// `volumes/volumes/v1`.
    #[test]
    fn full_names_are_the_objects_they_name() {
        let text = "kind: Volume\nname: volumes/v1\nspec: {ram: {sizeBytes: \"4096\"}}\n---\nkind: Namespace\nname: subsystems/s1/namespaces/1\nspec: {volume: volumes/v1}\n---\nkind: Route\nname: vrfs/red/routes/default\nspec: {prefix: 0.0.0.0/0, nextHop: 192.0.2.1}\n";
        let r = parse(text).unwrap();
        let names: Vec<_> = r.iter().map(|r| (r.id().to_owned(), r.full_name())).collect();
        assert_eq!(
            names,
            [
                ("v1".to_owned(), "volumes/v1".to_owned()),
                ("s1/namespaces/1".to_owned(), "subsystems/s1/namespaces/1".to_owned()),
                ("red/routes/default".to_owned(), "vrfs/red/routes/default".to_owned()),
            ]
        );
        let twice = "kind: Sysctl\nname: vm.swappiness\nspec: {value: \"1\"}\n---\nkind: Sysctl\nname: sysctls/vm.swappiness\nspec: {value: \"2\"}\n";
        let e = parse(twice).unwrap_err().to_string();
        assert!(e.contains("sysctls/vm.swappiness is document 1 already"), "{e}");
        let e = parse("kind: Volume\nname: volumes/\nspec: {}\n").unwrap_err().to_string();
        assert!(e.contains("name must not be empty"), "{e}");
    }

    /// What the agent adds to a resource (`get -o yaml` prints it) is read and ignored, in
    /// the JSON mapping's spelling or the proto's; any other unknown field is still refused,
    /// so a typo is caught.
    #[test]
    fn output_only_fields_are_ignored_and_typos_refused() {
        let printed = "apiVersion: dpu.system.v1\nkind: Sysctl\nname: sysctls/vm.swappiness\nspec:\n  value: '10'\nstatus:\n  state: APPLY_STATE_APPLIED\n  observedValue: '10'\n  appliedGeneration: '1'\ngeneration: '1'\netag: 1-abc\ncreateTime: 2026-01-01T00:00:00Z\nupdateTime: 2026-01-01T00:00:00Z\n";
        let want = Resource::Sysctl {
            id: "vm.swappiness".into(),
            spec: SysctlSpec { value: "10".into() },
        };
        assert_eq!(parse(printed), Ok(vec![want.clone()]));
        let snake =
            printed.replace("createTime", "create_time").replace("updateTime", "update_time");
        assert_eq!(parse(&snake), Ok(vec![want]));
        let e = parse(&printed.replace("etag:", "etga:")).unwrap_err().to_string();
        assert!(e.starts_with("document 1: unknown field `etga`"), "{e}");
    }

    /// A document may be a list of objects (what `list -o yaml|json` prints); an error
    /// names the item, and an object twice is refused across lists and documents.
    #[test]
    fn a_list_document_holds_its_objects() {
        let text = "- {kind: Sysctl, name: a, spec: {value: \"1\"}}\n- {kind: Sysctl, name: b, spec: {value: \"2\"}}\n---\nkind: Sysctl\nname: c\nspec: {value: \"3\"}\n";
        let names: Vec<String> = parse(text).unwrap().iter().map(Resource::full_name).collect();
        assert_eq!(names, ["sysctls/a", "sysctls/b", "sysctls/c"]);
        let json = r#"[{"kind": "Sysctl", "name": "a", "spec": {"value": "1"}}]"#;
        assert_eq!(parse(json).unwrap().len(), 1);
        let bad = "- {kind: Sysctl, name: a, spec: {value: \"1\"}}\n- {kind: Sysctl, name: b, spec: {valeu: \"2\"}}\n";
        let e = parse(bad).unwrap_err().to_string();
        assert!(e.starts_with("document 1: item 2: spec"), "{e}");
        let twice = text.replace("name: c", "name: a");
        let e = parse(&twice).unwrap_err().to_string();
        assert!(e.contains("sysctls/a is document 1 already"), "{e}");
        assert!(parse("[]\n").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_document_and_the_problem() {
        let cases = [
            ("kind: Nope\nname: a\nspec: {}\n", "unknown kind"),
            (
                "apiVersion: x/v9\nkind: Sysctl\nname: a\nspec: {value: \"1\"}\n",
                "apiVersion \"x/v9\" does not serve kind Sysctl; it is \"dpu.system.v1\"",
            ),
            (
                "apiVersion: dpu.nvmf.v1\nkind: Bridge\nname: b\nspec: {}\n",
                "it is \"dpu.switch.v1\"",
            ),
            ("kind: Sysctl\nname: a\nspec:\n  valeu: \"1\"\n", "valeu"),
            ("kind: Sysctl\nname: a\nspce: {}\n", "spce"),
            ("kind: Sysctl\nname: \"\"\nspec: {}\n", "name must not be empty"),
            ("kind: Sysctl\nname: a\nspec: {value: [1]}\n", "spec"),
            ("[unclosed", "document 1"),
            ("kind: Sysctl\nname: a\nspec: {value: \"1\"}\n---\n: : :\n", "document 2"),
            (
                "kind: Sysctl\nname: a\nspec: {value: \"1\"}\n---\nkind: Sysctl\nname: a\nspec: {value: \"2\"}\n",
                "document 2: sysctls/a is document 1 already",
            ),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
        let named =
            "apiVersion: dpu.nvmf.v1\nkind: Volume\nname: v\nspec: {ram: {sizeBytes: \"4096\"}}\n";
        assert_eq!(parse(named).unwrap().len(), 1, "the kind's own apiVersion is taken");
    }

    /// A spec's error names the field at fault (`spec.ram.sizeBytes`), and a volume with
    /// two backends says it may have one.
    #[test]
    fn spec_errors_name_the_field_at_fault() {
        let both = "kind: Volume\nname: v\nspec: {ram: {sizeBytes: \"4096\"}, file: {path: /v.img, sizeBytes: \"4096\"}}\n";
        let e = parse(both).unwrap_err().to_string();
        assert_eq!(
            e,
            "document 1: spec: one backend only (ram, file or blockDevice); this one has ram and file"
        );
        let negative = "kind: Volume\nname: v\nspec: {ram: {sizeBytes: \"-4096\"}}\n";
        let e = parse(negative).unwrap_err().to_string();
        assert!(e.starts_with("document 1: spec.ram.sizeBytes: "), "{e}");
        let listener = "kind: Listener\nname: l\nspec: {port: x}\n";
        let e = parse(listener).unwrap_err().to_string();
        assert!(e.starts_with("document 1: spec.port: "), "{e}");
    }

    /// A listener's address spelled another way is the agent's address (which it stores in
    /// its canonical form): no difference for apply or diff.
    #[test]
    fn a_respelled_listener_address_is_no_difference() {
        let listener = |address: &str| Resource::Listener {
            id: "l".into(),
            spec: ListenerSpec { address: address.into(), port: 4420, ..Default::default() },
        };
        assert_eq!(listener("0:0:0:0:0:0:0:1").shown_against(&listener("::1")), listener("::1"));
        assert_eq!(listener("::2").shown_against(&listener("::1")), listener("::2"));
        // A port ID left out is the one the agent gave; one named is the manifest's.
        let given = |port_id| match listener("::1") {
            Resource::Listener { id, spec } => {
                Resource::Listener { id, spec: ListenerSpec { port_id, ..spec } }
            }
            other => other,
        };
        assert_eq!(listener("::1").shown_against(&given(3)), given(3));
        assert_eq!(given(4).shown_against(&given(3)), given(4));
    }

    /// Referrals spelled another way (an address's case, zeros or IPv4-mapped form, port 0
    /// for 8009) are the agent's: no difference; another referral is one.
    #[test]
    fn respelled_referrals_are_no_difference() {
        use dpu_proto::dpu::nvmf::v1::Referral;
        let listener = |refs: &[(&str, u32)]| Resource::Listener {
            id: "l".into(),
            spec: ListenerSpec {
                address: "::1".into(),
                port: 8009,
                referrals: refs
                    .iter()
                    .map(|(a, p)| Referral { address: (*a).into(), port: *p })
                    .collect(),
                ..Default::default()
            },
        };
        let stored = listener(&[("192.0.2.20", 0), ("2001:db8::1", 4420)]);
        let respelled = listener(&[("::ffff:192.0.2.20", 8009), ("2001:0DB8::0001", 4420)]);
        assert_eq!(respelled.shown_against(&stored), stored);
        let other = listener(&[("192.0.2.21", 0), ("2001:db8::1", 4420)]);
        assert_eq!(other.shown_against(&stored), other);
    }

    #[test]
    fn parses_the_nvmf_kinds() {
        let text = r#"
kind: Volume
name: v1
spec:
  ram: {sizeBytes: "16777216"}
  blockSize: 4096
---
kind: Subsystem
name: s1
spec:
  nqn: nqn.2024-01.io.example:s1
  serialNumber: SN1
  allowedHosts: [nqn.2014-08.org.example:h1]
  hostSecrets:
  - hostNqn: nqn.2014-08.org.example:h1
    dhchapSecret: "DHHC-1:00:host:"
    dhchapCtrlSecret: "DHHC-1:00:ctrl:"
---
kind: Namespace
name: s1/namespaces/1
spec:
  volume: volumes/v1
---
kind: Listener
name: l1
spec: {trtype: TRANSPORT_TYPE_TCP, address: 127.0.0.1, port: 4420}
"#;
        let r = parse(text).unwrap();
        let names: Vec<String> = r.iter().map(Resource::full_name).collect();
        assert_eq!(
            names,
            ["volumes/v1", "subsystems/s1", "subsystems/s1/namespaces/1", "listeners/l1"]
        );
        match &r[0] {
            Resource::Volume { spec, .. } => {
                assert_eq!(spec.block_size, 4096);
                assert_eq!(
                    spec.backend,
                    Some(dpu_proto::dpu::nvmf::v1::volume_spec::Backend::Ram(
                        dpu_proto::dpu::nvmf::v1::RamBackend { size_bytes: 16 << 20 }
                    ))
                );
            }
            other => panic!("{other:?}"),
        }
        match &r[3] {
            Resource::Listener { spec, .. } => assert_eq!(spec.port, 4420),
            other => panic!("{other:?}"),
        }
        // Host secrets are carried through as written; what the agent would show has them
        // blank.
        assert!(r[1].has_write_only() && !r[0].has_write_only());
        match (&r[1], r[1].shown()) {
            (Resource::Subsystem { spec, .. }, Resource::Subsystem { spec: shown, .. }) => {
                let h = &spec.host_secrets[0];
                assert_eq!(h.host_nqn, "nqn.2014-08.org.example:h1");
                assert_eq!(
                    (h.dhchap_secret.as_str(), h.dhchap_ctrl_secret.as_str()),
                    ("DHHC-1:00:host:", "DHHC-1:00:ctrl:")
                );
                let s = &shown.host_secrets[0];
                assert_eq!((s.dhchap_secret.as_str(), s.dhchap_ctrl_secret.as_str()), ("", ""));
                assert!(s.bidirectional && !shown.has_secrets());
            }
            other => panic!("{other:?}"),
        }
        // A manifest that leaves the secrets out (kept in the agent) and says
        // `bidirectional` is shown bidirectional, as the agent shows it.
        let kept =
            parse(&text.replace("    dhchapSecret: \"DHHC-1:00:host:\"\n", "").replace(
                "    dhchapCtrlSecret: \"DHHC-1:00:ctrl:\"\n",
                "    bidirectional: true\n",
            ))
            .unwrap();
        assert!(!kept[1].has_write_only());
        assert_eq!(kept[1].shown(), r[1].shown());
        assert_eq!(NAMESPACE.full_name("s1/namespaces/2"), "subsystems/s1/namespaces/2");
        assert_eq!(NAMESPACE.full_name("subsystems/s1/namespaces/2"), "subsystems/s1/namespaces/2");
        assert_eq!(VOLUME.full_name("volumes/v1"), "volumes/v1");
        for (text, needle) in [
            (
                "kind: Namespace\nname: s1\nspec: {volume: volumes/v1}\n",
                "SUBSYSTEM/namespaces/NSID",
            ),
            ("kind: Volume\nname: v1\nspec: {ram: {sizeByte: 1}}\n", "sizeByte"),
            ("kind: Listener\nname: l1\nspec: {port: \"x\"}\n", "spec"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    /// A RAM volume's block size 0 and 512 compare equal with the agent's copy, whichever
    /// it has; other sizes, and a block device's 0 (its device's size), do not.
    #[test]
    fn block_size_spellings_of_one_size_compare_equal() {
        use dpu_proto::dpu::nvmf::v1::{BlockDeviceBackend, RamBackend, volume_spec::Backend};
        let volume = |backend: &Backend, block_size| Resource::Volume {
            id: "v1".into(),
            spec: VolumeSpec { backend: Some(backend.clone()), block_size, ..Default::default() },
        };
        let ram = Backend::Ram(RamBackend { size_bytes: 1 << 20 });
        let device = Backend::BlockDevice(BlockDeviceBackend { path: "/dev/loop0".into() });
        let same = |backend: &Backend, ours, theirs| {
            let agent = volume(backend, theirs);
            volume(backend, ours).shown_against(&agent) == agent
        };
        assert!(same(&ram, 512, 0) && same(&ram, 0, 512) && same(&ram, 512, 512));
        assert!(!same(&ram, 4096, 0) && !same(&ram, 0, 4096));
        assert!(!same(&device, 512, 0) && !same(&device, 0, 512));
        // A respelled volume that also grows still differs, in its size only.
        let grown = Backend::Ram(RamBackend { size_bytes: 2 << 20 });
        assert_eq!(volume(&grown, 512).shown_against(&volume(&ram, 0)), volume(&grown, 0));
    }

    #[test]
    fn parses_the_switch_kinds() {
        let text = r#"
kind: Bridge
name: blue
spec: {vlan: 10, vni: 100}
---
kind: Port
name: pf0vf0
spec: {mode: PORT_MODE_ACCESS, bridge: bridges/blue}
---
kind: Vrf
name: red
spec: {}
---
kind: Route
name: red/routes/default
spec: {prefix: 0.0.0.0/0, nextHop: 192.0.2.254}
---
kind: StaticMac
name: blue/static-macs/printer
spec: {mac: "02:00:00:00:aa:01", port: ports/pf0vf0}
"#;
        let r = parse(text).unwrap();
        let names: Vec<String> = r.iter().map(Resource::full_name).collect();
        assert_eq!(
            names,
            [
                "bridges/blue",
                "ports/pf0vf0",
                "vrfs/red",
                "vrfs/red/routes/default",
                "bridges/blue/static-macs/printer"
            ]
        );
        let stages: Vec<u8> = r.iter().map(Resource::stage).collect();
        // A static MAC comes after the VTEP it may name.
        assert_eq!(stages, [0, 1, 0, 2, 3]);
        assert_eq!(ROUTE.full_name("red/routes/r1"), "vrfs/red/routes/r1");
        assert_eq!(STATIC_MAC.full_name("bridges/b/static-macs/m"), "bridges/b/static-macs/m");
        assert_eq!(kind("static-macs"), Some(STATIC_MAC));
        for (text, needle) in [
            ("kind: Route\nname: default\nspec: {}\n", "VRF/routes/ID"),
            ("kind: Bridge\nname: b\nspec: {vlna: 1}\n", "vlna"),
            ("kind: Port\nname: p\nspec: {mode: PORT_MODE_SIDEWAYS}\n", "spec"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn kinds_resolve_by_any_name() {
        assert_eq!(kind("namespaces"), Some(NAMESPACE));
        assert_eq!(kind("Volume"), Some(VOLUME));
        assert_eq!(kind("sysctls"), Some(SYSCTL));
        assert_eq!(kind("Sysctl"), Some(SYSCTL));
        assert_eq!(kind("SYSCTL"), Some(SYSCTL));
        assert_eq!(kind("pods"), None);
    }
}
