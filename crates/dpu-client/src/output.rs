//! Rendering API objects for people (tables) and programs (JSON, YAML).
//!
//! JSON and YAML use the proto3 JSON mapping, so the output of `get -o yaml` can be edited and
//! fed back to `apply -f`: each resource is a [`Document`], which names its kind as a
//! manifest does, and the manifest parser ignores what the agent adds (status, generation,
//! etag, times).

use std::borrow::Cow;

use serde::Serialize;

use crate::manifest::Kind;

/// A resource as `get` and `list` print it in JSON or YAML: the resource message (the proto3
/// JSON mapping) with the `apiVersion` and `kind` of a manifest document, so `apply -f`
/// takes it back as it is, as kubectl's output.
#[derive(Debug, Serialize)]
pub struct Document<'a, T> {
    #[serde(rename = "apiVersion")]
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(flatten)]
    pub object: &'a T,
}

impl<'a, T> Document<'a, T> {
    pub fn new(kind: Kind, object: &'a T) -> Self {
        Self { api_version: kind.api_version(), kind: kind.kind, object }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

impl Format {
    /// The word `-o` takes for it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Yaml => "yaml",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Format::Table, Format::Json, Format::Yaml]
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown output format {s:?}: expected table, json or yaml"))
    }
}

/// JSON or YAML text of any generated message.
pub fn serialize<T: Serialize>(value: &T, format: Format) -> Result<String, String> {
    match format {
        Format::Yaml => serde_yaml_ng::to_string(value).map_err(|e| e.to_string()),
        _ => serde_json::to_string_pretty(value).map(|s| s + "\n").map_err(|e| e.to_string()),
    }
}

/// `text` safe to hand to a terminal: control characters (C0 with newline and tab, DEL,
/// C1) and the bidirectional overrides and isolates (Unicode TR 9; text that reads other
/// than it is, CVE-2021-42574) become `\u{..}` escapes. What the agent returns may carry
/// strings a peer chose (a host NQN sent in an NVMe Connect, an interface's name): raw,
/// an escape sequence could rewrite the screen, forge rows or set the clipboard (OSC 52).
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A plain text table with left-aligned columns; every cell [`printable`].
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Cow<'_, str>>> =
        rows.iter().map(|row| row.iter().map(|cell| printable(cell)).collect()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(AsRef::as_ref).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dpu_proto::dpu::system::v1::{Sysctl, SysctlSpec};

    #[test]
    fn tables_align() {
        let t = table(
            &["NAME", "VALUE"],
            &[vec!["a".into(), "1".into()], vec!["long-name".into(), "2".into()]],
        );
        assert_eq!(t, "NAME        VALUE\na           1\nlong-name   2\n");
    }

    #[test]
    fn cells_reach_the_terminal_without_control_characters() {
        let nqn = "nqn.x\x1b]52;c;aGk=\x07\r\nforged   row\u{9b}2J\u{202e}txt.exe";
        let t = table(&["HOST"], &[vec![nqn.into()]]);
        assert_eq!(
            t,
            "HOST\nnqn.x\\u{1b}]52;c;aGk=\\u{7}\\u{d}\\u{a}forged   row\\u{9b}2J\\u{202e}txt.exe\n"
        );
        assert!(matches!(printable("plain: ok"), Cow::Borrowed(_)));
    }

    /// What `get` prints of a resource, in YAML or JSON, is a manifest of it: `apply -f`
    /// reads the same object back, ignoring what the agent added; so is what `list` prints,
    /// a list of them.
    #[test]
    fn a_printed_resource_is_a_manifest_of_it() {
        use dpu_proto::dpu::nvmf::v1::{
            ObjectStatus, RamBackend, Volume, VolumeSpec, VolumeStatus, volume_spec::Backend,
        };

        use crate::manifest::{self, Resource, SYSCTL, VOLUME};
        let spec = VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes: 1 << 20 })),
            max_iops: 500,
            ..Default::default()
        };
        let time = pbjson_types::Timestamp { seconds: 1_700_000_000, nanos: 5 };
        let volume = |name: &str| Volume {
            name: name.into(),
            spec: Some(spec.clone()),
            status: Some(VolumeStatus {
                apply: Some(ObjectStatus { state: 3, applied_generation: 2, message: "no".into() }),
                size_bytes: 1 << 20,
                block_count: 2048,
            }),
            generation: 2,
            etag: "2-abc".into(),
            create_time: Some(time),
            update_time: Some(time),
        };
        let want = |id: &str| Resource::Volume { id: id.into(), spec: spec.clone() };
        let sysctl = Sysctl {
            name: "sysctls/vm.swappiness".into(),
            spec: Some(SysctlSpec { value: "10".into() }),
            generation: 1,
            ..Default::default()
        };
        for format in [Format::Yaml, Format::Json] {
            let (v1, v2) = (volume("volumes/v1"), volume("volumes/v2"));
            let one = serialize(&Document::new(VOLUME, &v1), format).unwrap();
            assert!(one.contains("apiVersion") && one.contains("Volume"), "{one}");
            assert_eq!(manifest::parse(&one), Ok(vec![want("v1")]), "{one}");
            let list = [Document::new(VOLUME, &v1), Document::new(VOLUME, &v2)];
            let list = serialize(&list, format).unwrap();
            assert_eq!(manifest::parse(&list), Ok(vec![want("v1"), want("v2")]), "{list}");
            let one = serialize(&Document::new(SYSCTL, &sysctl), format).unwrap();
            let parsed = manifest::parse(&one).unwrap();
            assert_eq!(parsed[0].full_name(), "sysctls/vm.swappiness", "{one}");
        }
    }

    #[test]
    fn json_uses_the_proto3_mapping() {
        let s = Sysctl {
            name: "sysctls/a".into(),
            spec: Some(SysctlSpec { value: "1".into() }),
            ..Default::default()
        };
        let json = serialize(&s, Format::Json).unwrap();
        assert!(json.contains("\"name\": \"sysctls/a\""), "{json}");
        let yaml = serialize(&s, Format::Yaml).unwrap();
        assert!(yaml.contains("value: '1'") || yaml.contains("value: \"1\""), "{yaml}");
    }
}
