//! The tower layer every gRPC call passes first: authorisation by role, a place among the
//! listener's calls in flight (in all and from the peer's address), then metrics.
//!
//! It runs before tonic decodes anything, so a call the role may not make never reaches a
//! handler, never touches the store, and costs no message decoding. A call past the
//! listener's bound is refused at once (RESOURCE_EXHAUSTED, as kube-apiserver answers 429
//! past `--max-requests-inflight` rather than queueing): tonic reserves a request's whole
//! declared length, so stalled calls would otherwise hold memory without bound. One address
//! holds only its share of the places, so a client that stalls its calls (never reads their
//! responses) locks out only itself.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use dpu_runtime::logging::LogEvery;
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::authz::required_role;
use crate::metrics::Metrics;
use crate::places::{Place, Places, Refused};
use crate::tls::PeerInfo;
use crate::trailers::MapTrailers;

#[derive(Clone)]
pub struct GateLayer {
    metrics: Arc<Metrics>,
    known_methods: Arc<std::collections::HashSet<String>>,
    /// Denied calls are counted in the metrics; their log lines are thinned out, as a
    /// client may make one per call.
    denials_logged: Arc<LogEvery>,
    /// Places for calls in flight, shared by the clones of one listener's gate.
    calls: Places,
    max_calls: usize,
    max_calls_per_address: usize,
}

/// At most one log line about denied calls per this (with the count of those not logged).
const DENIAL_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl GateLayer {
    /// One listener's gate, which lets at most `max_calls` calls through at once, and at
    /// most `max_calls_per_address` from one peer address (each listener has its own: one's
    /// clients cannot take another's places).
    pub fn new(
        metrics: Arc<Metrics>,
        known_methods: Arc<std::collections::HashSet<String>>,
        max_calls: usize,
        max_calls_per_address: usize,
    ) -> Self {
        let denials_logged = Arc::new(LogEvery::new(DENIAL_LOG_EVERY));
        Self {
            metrics,
            known_methods,
            denials_logged,
            calls: Places::default(),
            max_calls,
            max_calls_per_address,
        }
    }

    /// A place among the calls in flight for a call from `peer`, or the status refusing it.
    fn take_place(&self, peer: &PeerInfo) -> Result<Place, tonic::Status> {
        self.calls.take(peer.remote.ip(), self.max_calls, self.max_calls_per_address).map_err(
            |why| {
                tonic::Status::resource_exhausted(match why {
                    Refused::Full => "too many calls in flight on this listener; retry later",
                    Refused::AddressFull => {
                        "too many calls in flight from this address on this listener; retry later"
                    }
                    Refused::GroupFull => {
                        "too many calls in flight from this IPv6 /64 on this listener; retry later"
                    }
                })
            },
        )
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

/// tonic refuses an oversized message with OUT_OF_RANGE; gRPC's status code guide and every
/// other implementation say RESOURCE_EXHAUSTED for a message over the receive or send limit,
/// which is what clients in other languages check for. `status` holds a call's status: the
/// headers of a trailers-only response, or the trailers of a streamed one.
fn oversized_is_resource_exhausted(status: &mut http::HeaderMap) {
    let out_of_range = status.get("grpc-status").is_some_and(|v| v.as_bytes() == b"11");
    let too_large = status.get("grpc-message").and_then(|v| v.to_str().ok()).is_some_and(|m| {
        m.contains("message%20length%20too%20large") || m.contains("message length too large")
    });
    if out_of_range && too_large {
        status.insert("grpc-status", http::HeaderValue::from_static("8"));
    }
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
            // The place is taken before the handler reads the body and kept in the response
            // body until it is sent (or the stream reset), so unsent responses count too.
            let place = match &peer {
                None => Err(tonic::Status::unauthenticated("no authenticated client certificate")),
                Some(peer) => {
                    let needed = required_role(&path);
                    if peer.role < needed {
                        if let Some(not_logged) = layer.denials_logged.admit() {
                            tracing::info!(method = %path, role = %peer.role, remote = %peer.remote, not_logged, "permission denied");
                        }
                        Err(tonic::Status::permission_denied(format!(
                            "{path} requires the {needed} role; {}",
                            whose_role(peer)
                        )))
                    } else {
                        layer.take_place(peer)
                    }
                }
            };
            let response = match place {
                Err(status) => status.into_http(),
                Ok(place) => {
                    let mut response = inner.call(req).await?;
                    oversized_is_resource_exhausted(response.headers_mut());
                    response.map(|body| Body::new(held(body, place)))
                }
            };
            layer.metrics.record(&path, known, grpc_status(&response), started.elapsed());
            Ok(response)
        })
    }
}

/// Why a denied client has the role it has: its certificate's, or the listener's cap,
/// which no certificate lifts (so the caller is told where to go instead).
fn whose_role(peer: &PeerInfo) -> String {
    if peer.capped {
        format!(
            "listener {:?} caps every client at the {} role (its max_role), whatever the \
             certificate: call through the operator listener (on a card, port 50052 of the \
             management interface)",
            peer.listener, peer.role
        )
    } else {
        format!("this client has the {} role", peer.role)
    }
}

/// A response body that holds its call's place among those in flight until it is dropped,
/// and says RESOURCE_EXHAUSTED in its trailers for a streamed message over the send limit.
fn held(body: Body, place: Place) -> MapTrailers<fn(&mut http::HeaderMap), Place> {
    MapTrailers::keeping(body, oversized_is_resource_exhausted, place)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use hyper::body::Frame;

    use super::*;

    /// A streamed response whose message was over the send limit ends with tonic's
    /// OUT_OF_RANGE in its trailers; the gate's body says RESOURCE_EXHAUSTED there, and
    /// gives its call's place back only when it is dropped.
    #[tokio::test]
    async fn a_streamed_oversized_message_is_resource_exhausted_and_the_body_holds_a_place() {
        let status = tonic::Status::out_of_range(
            "Error, encoded message length too large: found 9 bytes, the limit is: 8 bytes",
        );
        let mut trailers = http::HeaderMap::new();
        status.add_header(&mut trailers).unwrap();
        let frames: Vec<Result<Frame<hyper::body::Bytes>, tonic::Status>> =
            vec![Ok(Frame::data("x".into())), Ok(Frame::trailers(trailers))];
        let body = Body::new(http_body_util::StreamBody::new(tokio_stream::iter(frames)));
        let places = Places::default();
        let peer = std::net::IpAddr::from([192, 0, 2, 1]);
        let held = held(body, places.take(peer, 1, 1).unwrap());
        assert!(places.take(peer, 1, 1).is_err(), "the place is free while the body lives");
        let collected = held.collect().await.unwrap();
        let trailers = collected.trailers().unwrap();
        assert_eq!(trailers["grpc-status"], "8");
        assert!(places.take(peer, 1, 1).is_ok(), "the place did not come back");
    }
}
