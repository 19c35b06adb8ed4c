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
    Ok(())
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
