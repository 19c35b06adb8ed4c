//! The card's system service: reports what the machine is ([`inventory`]) and keeps kernel
//! parameters at their desired values ([`sysctl`]), served over gRPC on a Unix socket
//! ([`server`]) to the agent, which is its only client.
//!
//! The agent owns desired state; this process only holds the last set it was given, in memory.
//! After a restart it reports a new instance id and an empty applied set, and the agent syncs
//! again.

pub mod inventory;
pub mod server;
pub mod sysctl;

/// The name this service reports in `ServiceInfo.service` and `Inventory.versions`.
pub const SERVICE_NAME: &str = "system";
/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
