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
//! Kinds: `Sysctl` (`name` is the key), `Volume`, `Subsystem`, `Listener` (`name` is the id) and
//! `Namespace` (`name` is `SUBSYSTEM/namespaces/NSID`, under its subsystem as in the API).
//!
//! The `spec` follows the proto3 JSON mapping of the resource's spec message, so every field
//! of the API can be written and an unknown field is an error, not a silent no-op.

use dpu_proto::dpu::nvmf::v1::{ListenerSpec, NamespaceSpec, SubsystemSpec, VolumeSpec};
use dpu_proto::dpu::system::v1::SysctlSpec;
use serde::Deserialize;

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
}

pub const SYSCTL: Kind =
    Kind { kind: "Sysctl", singular: "sysctl", plural: "sysctls", collection: "sysctls" };
pub const VOLUME: Kind =
    Kind { kind: "Volume", singular: "volume", plural: "volumes", collection: "volumes" };
pub const SUBSYSTEM: Kind = Kind {
    kind: "Subsystem",
    singular: "subsystem",
    plural: "subsystems",
    collection: "subsystems",
};
/// Namespaces live under their subsystem: the id is `s1/namespaces/1`.
pub const NAMESPACE: Kind = Kind {
    kind: "Namespace",
    singular: "namespace",
    plural: "namespaces",
    collection: "subsystems",
};
pub const LISTENER: Kind =
    Kind { kind: "Listener", singular: "listener", plural: "listeners", collection: "listeners" };
pub const KINDS: &[Kind] = &[SYSCTL, VOLUME, SUBSYSTEM, NAMESPACE, LISTENER];

/// Finds a kind by any of its names, case-insensitively ("Sysctl", "sysctl", "sysctls").
pub fn kind(word: &str) -> Option<Kind> {
    let w = word.to_ascii_lowercase();
    KINDS
        .iter()
        .copied()
        .find(|k| k.kind.eq_ignore_ascii_case(&w) || k.singular == w || k.plural == w)
}

impl Kind {
    /// The API name of `name`, which may be the id or already the full name.
    pub fn full_name(&self, name: &str) -> String {
        let full = name.starts_with(&format!("{}/", self.collection))
            && (self.kind != "Namespace" || name.matches('/').count() == 3);
        if full { name.to_owned() } else { format!("{}/{name}", self.collection) }
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
}

impl Resource {
    pub fn kind(&self) -> Kind {
        match self {
            Resource::Sysctl { .. } => SYSCTL,
            Resource::Volume { .. } => VOLUME,
            Resource::Subsystem { .. } => SUBSYSTEM,
            Resource::Namespace { .. } => NAMESPACE,
            Resource::Listener { .. } => LISTENER,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::Sysctl { id, .. }
            | Resource::Volume { id, .. }
            | Resource::Subsystem { id, .. }
            | Resource::Namespace { id, .. }
            | Resource::Listener { id, .. } => id,
        }
    }

    /// Apply order: an object may reference only objects of an earlier stage (a namespace its
    /// volume and subsystem), so apply runs stage by stage.
    pub fn stage(&self) -> u8 {
        match self {
            Resource::Namespace { .. } => 1,
            _ => 0,
        }
    }

    /// The API name, `collection/id`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.kind().collection, self.id())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    kind: String,
    name: String,
    #[serde(default, rename = "apiVersion")]
    _api_version: Option<String>,
    spec: serde_json::Value,
}

/// Parses every document of a manifest file. Empty documents are skipped.
pub fn parse(text: &str) -> Result<Vec<Resource>, ManifestError> {
    let mut resources = Vec::new();
    for (i, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let doc = i + 1;
        if doc > MAX_DOCUMENTS {
            return Err(ManifestError::TooMany);
        }
        let err = |message: String| ManifestError::Document { doc, message };
        let value = serde_yaml_ng::Value::deserialize(document).map_err(|e| err(e.to_string()))?;
        if value.is_null() {
            continue;
        }
        let raw: Raw = serde_yaml_ng::from_value(value).map_err(|e| err(e.to_string()))?;
        if raw.name.is_empty() {
            return Err(err("name must not be empty".into()));
        }
        let Some(kind) = kind(&raw.kind) else {
            let known: Vec<_> = KINDS.iter().map(|k| k.kind).collect();
            return Err(err(format!("unknown kind {:?}; known: {}", raw.kind, known.join(", "))));
        };
        let spec_err = |e: serde_json::Error| err(format!("spec: {e}"));
        let id = raw.name;
        let spec = raw.spec;
        resources.push(match kind.kind {
            "Sysctl" => {
                Resource::Sysctl { id, spec: serde_json::from_value(spec).map_err(spec_err)? }
            }
            "Volume" => {
                Resource::Volume { id, spec: serde_json::from_value(spec).map_err(spec_err)? }
            }
            "Subsystem" => {
                Resource::Subsystem { id, spec: serde_json::from_value(spec).map_err(spec_err)? }
            }
            "Namespace" => {
                let shape = id
                    .split_once("/namespaces/")
                    .is_some_and(|(s, n)| !s.is_empty() && !s.contains('/') && !n.is_empty());
                if !shape {
                    return Err(err(format!(
                        "a Namespace is named SUBSYSTEM/namespaces/NSID, got {id:?}"
                    )));
                }
                Resource::Namespace { id, spec: serde_json::from_value(spec).map_err(spec_err)? }
            }
            "Listener" => {
                Resource::Listener { id, spec: serde_json::from_value(spec).map_err(spec_err)? }
            }
            other => return Err(err(format!("kind {other} cannot be applied"))),
        });
    }
    Ok(resources)
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

    #[test]
    fn errors_name_the_document_and_the_problem() {
        let cases = [
            ("kind: Nope\nname: a\nspec: {}\n", "unknown kind"),
            ("kind: Sysctl\nname: a\nspec:\n  valeu: \"1\"\n", "valeu"),
            ("kind: Sysctl\nname: a\nspce: {}\n", "spce"),
            ("kind: Sysctl\nname: \"\"\nspec: {}\n", "name must not be empty"),
            ("kind: Sysctl\nname: a\nspec: {value: [1]}\n", "spec"),
            ("[unclosed", "document 1"),
            ("kind: Sysctl\nname: a\nspec: {value: \"1\"}\n---\n: : :\n", "document 2"),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
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
