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
//! The `spec` follows the proto3 JSON mapping of the resource's spec message, so every field
//! of the API can be written and an unknown field is an error, not a silent no-op.

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
}

pub const SYSCTL: Kind = Kind { kind: "Sysctl", singular: "sysctl", plural: "sysctls" };
pub const KINDS: &[Kind] = &[SYSCTL];

/// Finds a kind by any of its names, case-insensitively ("Sysctl", "sysctl", "sysctls").
pub fn kind(word: &str) -> Option<Kind> {
    let w = word.to_ascii_lowercase();
    KINDS
        .iter()
        .copied()
        .find(|k| k.kind.eq_ignore_ascii_case(&w) || k.singular == w || k.plural == w)
}

/// One desired object.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Sysctl { id: String, spec: SysctlSpec },
}

impl Resource {
    pub fn kind(&self) -> Kind {
        match self {
            Resource::Sysctl { .. } => SYSCTL,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::Sysctl { id, .. } => id,
        }
    }

    /// The API name, `collection/id`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.kind().plural, self.id())
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
        resources.push(match kind.kind {
            "Sysctl" => Resource::Sysctl {
                id: raw.name,
                spec: serde_json::from_value(raw.spec).map_err(spec_err)?,
            },
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
    fn kinds_resolve_by_any_name() {
        assert_eq!(kind("sysctls"), Some(SYSCTL));
        assert_eq!(kind("Sysctl"), Some(SYSCTL));
        assert_eq!(kind("SYSCTL"), Some(SYSCTL));
        assert_eq!(kind("pods"), None);
    }
}
