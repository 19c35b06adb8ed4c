//! The DPU virtual switch.
//!
//! * [`Switch`]: the sans-IO pipeline core. A burst of received frames and the current time
//!   go in ([`Switch::process`]), frames to send come out; [`Switch::tick`] does the periodic
//!   work (MAC ageing, flow expiry, ARP retries). It owns the configuration
//!   ([`config::SwitchConfig`], replaced as a whole by [`Switch::apply`]), the MAC table, the
//!   flow cache ([`flow`]), the VRFs and neighbours of the router, and the counters
//!   ([`counters`]).
//! * [`api`]: the internal gRPC API (`dpu.switch.v1`) the agent drives over a Unix socket.
//! * [`io`]: backends that move frames between Linux interfaces and the core (AF_PACKET with
//!   TPACKET_V3 rings, in-memory ports for tests and benchmarks) and the worker loop.
//! * The `dpu-switch` binary: a thin shell that reads a configuration, binds the ports and runs
//!   the worker.
//!
//! Parsing and header building come from `dpu_wire`; a frame that fails to parse is dropped
//! and counted under the wire crate's reason ([`counters::DropReason`]).

pub mod api;
pub mod config;
pub mod counters;
mod fastkey;
pub mod flow;
pub mod fuzz;
pub mod io;
mod mac;
pub mod offload;
pub mod packet;
mod paging;
mod switch;
#[cfg(test)]
mod testutil;

pub use config::{ConfigError, SwitchConfig};
pub use counters::DropReason;
pub use mac::Dest;
pub use packet::{BufPool, HEADROOM, PacketBuf, PortId, Rx, Tx};
pub use switch::l3::{
    ICMP_ERRORS_PER_SEC, MAX_INCOMPLETE_NEIGHBOURS, MAX_NEIGHBOURS, NEIGHBOUR_GC_THRESH1,
    NEIGHBOUR_IDLE, NeighbourView, RouteView,
};
pub use switch::{
    ARP_RETRY, BridgeStatus, FLOW_IDLE, FLOW_SWEEP_EVERY, FlowPage, FlowView, LocalVtepStatus,
    MacEntryView, MacPage, PORT_ID_REST, PortStatus, Status, Switch, SwitchCounters, VtepStatus,
};
