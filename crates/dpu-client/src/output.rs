//! Rendering API objects for people (tables) and programs (JSON, YAML).
//!
//! JSON and YAML use the proto3 JSON mapping, so the output of `get -o yaml` can be edited and
//! fed back to `apply -f` (its `spec` is the same shape).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "yaml" => Ok(Format::Yaml),
            other => Err(format!("unknown output format {other:?}: expected table, json or yaml")),
        }
    }
}

/// JSON or YAML text of any generated message.
pub fn serialize<T: Serialize>(value: &T, format: Format) -> Result<String, String> {
    match format {
        Format::Yaml => serde_yaml_ng::to_string(value).map_err(|e| e.to_string()),
        _ => serde_json::to_string_pretty(value).map(|s| s + "\n").map_err(|e| e.to_string()),
    }
}

/// A plain text table with left-aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
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
    for row in rows {
        line(row.iter().map(String::as_str).collect());
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
