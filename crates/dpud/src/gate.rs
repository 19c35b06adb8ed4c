//! The tower layer every gRPC call passes first: authorisation by role, then metrics.
//!
//! It runs before tonic decodes anything, so a call the role may not make never reaches a
//! handler, never touches the store, and costs no message decoding.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use dpu_runtime::logging::LogEvery;
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::authz::required_role;
use crate::metrics::Metrics;
use crate::tls::PeerInfo;

#[derive(Clone)]
pub struct GateLayer {
    metrics: Arc<Metrics>,
    known_methods: Arc<std::collections::HashSet<String>>,
    /// Denied calls are counted in the metrics; their log lines are thinned out, as a
    /// client may make one per call.
    denials_logged: Arc<LogEvery>,
}

/// At most one log line about denied calls per this (with the count of those not logged).
const DENIAL_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl GateLayer {
    pub fn new(metrics: Arc<Metrics>, known_methods: std::collections::HashSet<String>) -> Self {
        let denials_logged = Arc::new(LogEvery::new(DENIAL_LOG_EVERY));
        Self { metrics, known_methods: Arc::new(known_methods), denials_logged }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = Gate<S>;
    fn layer(&self, inner: S) -> Gate<S> {
        Gate { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct Gate<S> {
    inner: S,
    layer: GateLayer,
}

fn grpc_status(response: &Response<Body>) -> tonic::Code {
    // Unary errors are "trailers-only" responses: the status is in the headers. A successful
    // unary response carries grpc-status 0 in the trailers, so no header here means OK.
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from)
}

/// tonic refuses an oversized request with OUT_OF_RANGE; gRPC's status code guide and every
/// other implementation say RESOURCE_EXHAUSTED for a message over the receive limit, which is
/// what clients in other languages check for.
fn oversized_is_resource_exhausted(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    let out_of_range = headers.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
    let too_large = headers.get("grpc-message").and_then(|v| v.to_str().ok()).is_some_and(|m| {
        m.contains("message%20length%20too%20large") || m.contains("message length too large")
    });
    if out_of_range && too_large {
        headers.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
    response
}

impl<S, B> Service<Request<B>> for Gate<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let path = req.uri().path().to_owned();
        let peer = req.extensions().get::<PeerInfo>().cloned();
        let layer = self.layer.clone();
        // Take the service that was made ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let known = layer.known_methods.contains(&path);
            let denial = match &peer {
                None => Some(tonic::Status::unauthenticated("no authenticated client certificate")),
                Some(peer) => {
                    let needed = required_role(&path);
                    (peer.role < needed).then(|| {
                        if let Some(not_logged) = layer.denials_logged.admit() {
                            tracing::info!(method = %path, role = %peer.role, remote = %peer.remote, not_logged, "permission denied");
                        }
                        tonic::Status::permission_denied(format!(
                            "{path} requires the {needed} role; this client has the {} role",
                            peer.role
                        ))
                    })
                }
            };
            let response = match denial {
                Some(status) => status.into_http(),
                None => oversized_is_resource_exhausted(inner.call(req).await?),
            };
            layer.metrics.record(&path, known, grpc_status(&response), started.elapsed());
            Ok(response)
        })
    }
}
