//! Generates `crates/dpu-proto/src/gen/` from `proto/`.
//!
//! protox compiles the .proto files in pure Rust, so no protoc is needed anywhere; the output is
//! checked in and `generated_code_is_fresh` keeps it honest.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use prost::Message;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn proto_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![root.join("proto")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the generated code for every file under `proto/` into `out_dir`.
pub fn generate(out_dir: &Path) -> Result<()> {
    let root = workspace_root();
    let files = proto_files(&root)?;
    let fds = protox::compile(&files, [root.join("proto")]).context("compiling proto/")?;
    fs::create_dir_all(out_dir)?;
    let descriptor_bytes = fds.encode_to_vec();
    fs::write(out_dir.join("descriptor.bin"), &descriptor_bytes)?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .out_dir(out_dir)
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)
        .map_err(|e| anyhow::anyhow!("generating prost/tonic code: {e:?}"))?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .out_dir(out_dir)
        .build(&[".dpu"])
        .context("generating serde code")?;
    for entry in fs::read_dir(out_dir)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(".serde.rs") {
            let code = fs::read_to_string(&path)?;
            let code = unknown_enums_as_numbers(&code)
                .with_context(|| format!("post-processing {}", path.display()))?;
            fs::write(&path, code)?;
        }
    }
    Ok(())
}

/// pbjson's serializers fail on an enum value the build does not know, so one a newer
/// agent adds would fail `dpuctl -o json` and blank the objects dpuctl renders through
/// JSON. This makes each write the value through `dpu_proto::EnumValue` (its name, else
/// its number, as the proto3 JSON mapping allows). Only the singular field shape is
/// known; any other "Invalid variant" left is an error, so a pbjson upgrade or a
/// repeated enum field cannot slip through unhandled.
fn unknown_enums_as_numbers(code: &str) -> Result<String> {
    const ERROR: &str = ".map_err(|_| serde::ser::Error::custom(format!(\"Invalid variant {}\", ";
    let lines: Vec<&str> = code.lines().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < lines.len() {
        // `let v = Type::try_from(VALUE)` then `.map_err(... VALUE)))?;`
        let call = lines[i].trim_start().strip_prefix("let v = ").and_then(|rest| {
            let (ty, value) = rest.strip_suffix(')')?.split_once("::try_from(")?;
            let next = lines.get(i + 1)?.trim_start().strip_prefix(ERROR)?;
            (next == format!("{value})))?;")).then_some((ty, value))
        });
        match call {
            Some((ty, value)) => {
                let indent = &lines[i][..lines[i].len() - lines[i].trim_start().len()];
                out.push_str(&format!("{indent}let v = crate::EnumValue::<{ty}>::of({value});\n"));
                i += 2;
            }
            None => {
                out.push_str(lines[i]);
                out.push('\n');
                i += 1;
            }
        }
    }
    if out.contains("Invalid variant") {
        anyhow::bail!("an enum serializer of a shape this does not rewrite");
    }
    Ok(out)
}

pub fn gen_dir() -> PathBuf {
    workspace_root().join("crates/dpu-proto/src/gen")
}

pub fn run() -> Result<()> {
    let dir = gen_dir();
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    generate(&dir)?;
    println!("xtask codegen: wrote {}", dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_serializers_write_unknown_values_as_numbers() {
        let pbjson = "        if self.state != 0 {
            let v = AnaState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!(\"Invalid variant {}\", self.state)))?;
            struct_ser.serialize_field(\"state\", &v)?;
        }
";
        let rewritten = unknown_enums_as_numbers(pbjson).unwrap();
        let expected = "        if self.state != 0 {
            let v = crate::EnumValue::<AnaState>::of(self.state);
            struct_ser.serialize_field(\"state\", &v)?;
        }
";
        assert_eq!(rewritten, expected);
        // A repeated enum field's shape is not rewritten: codegen fails rather than
        // leave a serializer that refuses unknown values.
        let repeated = "            let v = self.states.iter().cloned().map(|v| {
                AnaState::try_from(v)
                    .map_err(|_| serde::ser::Error::custom(format!(\"Invalid variant {}\", v)))
                }).collect::<std::result::Result<Vec<_>, _>>()?;
";
        assert!(unknown_enums_as_numbers(repeated).is_err());
    }

    /// The checked-in generated code must equal a fresh generation from proto/.
    #[test]
    fn generated_code_is_fresh() {
        let fresh = tempfile::tempdir().unwrap();
        generate(fresh.path()).unwrap();
        let mut names: Vec<_> =
            fs::read_dir(fresh.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        let mut checked_in: Vec<_> =
            fs::read_dir(gen_dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
        checked_in.sort();
        assert_eq!(names, checked_in, "file list differs: run `cargo xtask codegen`");
        for name in names {
            let a = fs::read(fresh.path().join(&name)).unwrap();
            let b = fs::read(gen_dir().join(&name)).unwrap();
            assert!(a == b, "{name:?} is stale: run `cargo xtask codegen`");
        }
    }
}
