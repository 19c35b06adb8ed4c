//! Generated code for the `dpu.*` protobuf packages.
//!
//! The files under `src/gen/` are produced by `cargo xtask codegen` from `proto/` and checked in,
//! so building the workspace needs no protoc. A test in xtask regenerates them and fails when the
//! checked-in copy is stale.

#![allow(clippy::all, clippy::pedantic, missing_docs, rust_2018_idioms, unused_qualifications)]

pub mod dpu {
    pub mod system {
        pub mod v1 {
            include!("gen/dpu.system.v1.rs");
            include!("gen/dpu.system.v1.serde.rs");
        }
    }
    pub mod nvmf {
        pub mod v1 {
            include!("gen/dpu.nvmf.v1.rs");
            include!("gen/dpu.nvmf.v1.serde.rs");
        }
    }
    pub mod switch {
        pub mod v1 {
            include!("gen/dpu.switch.v1.rs");
            include!("gen/dpu.switch.v1.serde.rs");
        }
    }
    pub mod internal {
        pub mod v1 {
            include!("gen/dpu.internal.v1.rs");
            include!("gen/dpu.internal.v1.serde.rs");
        }
    }
}

/// Encoded `FileDescriptorSet` of every package, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("gen/descriptor.bin");

/// Full names of the public services the agent serves (for health and reflection).
pub const PUBLIC_SERVICES: &[&str] =
    &["dpu.system.v1.SystemService", "dpu.nvmf.v1.NvmfService", "dpu.switch.v1.SwitchService"];

pub use pbjson_types;
