//! A response body whose trailers pass through a function on their way out: where a
//! streamed call's gRPC status reaches its client, so where the agent rewrites it.

use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tonic::body::Body;

/// `body`, its trailers changed by `map`; whatever `keep` holds lives as long as the body
/// (a call's place among those in flight).
pub struct MapTrailers<F, K = ()> {
    body: Body,
    map: F,
    _keep: K,
}

impl<F: FnMut(&mut http::HeaderMap)> MapTrailers<F> {
    pub fn new(body: Body, map: F) -> Self {
        Self { body, map, _keep: () }
    }
}

impl<F: FnMut(&mut http::HeaderMap), K> MapTrailers<F, K> {
    /// The same, holding `keep` until the body is dropped.
    pub fn keeping(body: Body, map: F, keep: K) -> Self {
        Self { body, map, _keep: keep }
    }
}

impl<F: FnMut(&mut http::HeaderMap) + Unpin, K: Unpin> HttpBody for MapTrailers<F, K> {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let mut polled = Pin::new(&mut this.body).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &mut polled
            && let Some(trailers) = frame.trailers_mut()
        {
            (this.map)(trailers);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
