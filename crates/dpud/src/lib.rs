//! dpud, the agent: the card's single control endpoint.
//!
//! A call flows: TCP accept -> mTLS handshake and role ([`tls`]) -> authorisation and metrics
//! ([`gate`]) -> tonic decoding (size-limited) -> validation and persistence ([`api`], flushed
//! before the reply) -> a nudge to the service's reconciler ([`services`]), which re-applies the
//! whole desired state over the service's Unix socket.
//!
//! Invariants: nothing reaches a handler without a role that may call it; an invalid request
//! changes nothing; an acknowledged write is on disk; the agent never blocks its reactor on
//! disk or on a service.

pub mod api;
pub mod authz;
pub mod config;
pub mod gate;
pub mod metrics;
pub mod metrics_http;
pub mod metrics_nvmf;
pub mod places;
pub mod server;
pub mod services;
pub mod stream_limit;
pub mod tls;
pub mod trailers;

pub use config::Config;
pub use server::{Agent, AgentError};
