//! A request size limit a streaming service answers. tonic-reflection ends its stream
//! quietly (grpc-status 0) at a request message it cannot decode, so a client would not
//! learn that its request was too large. [`StreamLimit`] reads the length prefix of each
//! request message (gRPC over HTTP/2, Length-Prefixed-Message: a flag byte and a 4-byte
//! big-endian length), refuses one over the limit before tonic reserves room for it, and
//! ends the call with RESOURCE_EXHAUSTED in the trailers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use http::{Request, Response};
use hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use tonic::body::Body;
use tonic::server::NamedService;
use tower::Service;

use crate::trailers::MapTrailers;

/// Where a request message stream is: in a prefix, or in a message's bytes. Sans-IO.
#[derive(Debug, Default)]
struct Prefixes {
    prefix: [u8; 5],
    /// Bytes of `prefix` read so far.
    filled: usize,
    /// Bytes of the current message still to come.
    remaining: u64,
}

impl Prefixes {
    /// Follows `data`; the declared length of the first message over `limit` bytes.
    fn feed(&mut self, mut data: &[u8], limit: usize) -> Option<u32> {
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = data.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                self.remaining -= n as u64;
                data = &data[n..];
                continue;
            }
            let n = data.len().min(self.prefix.len() - self.filled);
            self.prefix[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled == self.prefix.len() {
                self.filled = 0;
                let [_, a, b, c, d] = self.prefix;
                let length = u32::from_be_bytes([a, b, c, d]);
                if usize::try_from(length).map_or(true, |l| l > limit) {
                    return Some(length);
                }
                self.remaining = u64::from(length);
            }
        }
        None
    }
}

/// A service whose request messages are at most `limit` bytes, answered as such.
#[derive(Debug, Clone)]
pub struct StreamLimit<S> {
    inner: S,
    limit: usize,
}

impl<S> StreamLimit<S> {
    /// `inner` should decode at most `limit` bytes too (tonic's own check, which then never
    /// fires first).
    pub fn new(inner: S, limit: usize) -> Self {
        Self { inner, limit }
    }
}

impl<S: NamedService> NamedService for StreamLimit<S> {
    const NAME: &'static str = S::NAME;
}

/// "No message over the limit yet", in [`Refused`].
const NONE: u64 = u64::MAX;

impl<S> Service<Request<Body>> for StreamLimit<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let refused = Arc::new(AtomicU64::new(NONE));
        let limit = self.limit;
        let watched = refused.clone();
        let req = req.map(move |body| {
            Body::new(Watched { body, prefixes: Prefixes::default(), limit, refused: watched })
        });
        let called = self.inner.call(req);
        Box::pin(async move {
            let response = called.await?;
            // Its trailers say RESOURCE_EXHAUSTED when its request was refused.
            let answered = move |trailers: &mut http::HeaderMap| {
                let length = refused.load(Ordering::Acquire);
                if length != NONE {
                    trailers.clear();
                    // Only a message that is not ASCII fails here; ours is.
                    let _ = too_large(length, limit).add_header(trailers);
                }
            };
            Ok(response.map(|body| Body::new(MapTrailers::new(body, answered))))
        })
    }
}

/// The status of a call whose request message of `length` bytes was refused.
fn too_large(length: u64, limit: usize) -> tonic::Status {
    tonic::Status::resource_exhausted(format!(
        "request message of {length} bytes is larger than the limit of {limit} bytes"
    ))
}

/// A request body that ends with an error at a message over the limit, noting its length.
struct Watched {
    body: Body,
    prefixes: Prefixes,
    limit: usize,
    refused: Arc<AtomicU64>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        if self.refused.load(Ordering::Acquire) != NONE {
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        let limit = self.limit;
        if let Some(data) = frame.data_ref()
            && let Some(length) = self.prefixes.feed(data, limit)
        {
            self.refused.store(u64::from(length), Ordering::Release);
            return Poll::Ready(Some(Err(too_large(u64::from(length), limit))));
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(length: u32) -> Vec<u8> {
        let mut m = vec![0];
        m.extend_from_slice(&length.to_be_bytes());
        m.resize(5 + length as usize, 7);
        m
    }

    #[test]
    fn prefixes_are_followed_across_chunks() {
        let mut stream = message(3);
        stream.extend(message(0));
        stream.extend(message(10));
        stream.extend(message(11));
        // Every way of cutting it in pieces of one size finds the 11-byte message, the
        // first over 10, however its prefix is split.
        for piece in 1..stream.len() {
            let mut prefixes = Prefixes::default();
            let found = stream.chunks(piece).find_map(|c| prefixes.feed(c, 10));
            assert_eq!(found, Some(11), "pieces of {piece}");
        }
        let mut prefixes = Prefixes::default();
        assert_eq!(prefixes.feed(&stream[..stream.len() - 16], 10), None);
        // The largest length a prefix can say.
        assert_eq!(Prefixes::default().feed(&[1, 255, 255, 255, 255], 10), Some(u32::MAX));
    }
}
