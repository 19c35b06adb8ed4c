//! A deadline for a whole call, reply body included. tonic's `Endpoint::timeout` ends when
//! the response headers arrive; a reply body that stalls after them (the card rebooting or
//! the link dropping mid-reply) would then hold the caller for as long as TCP takes to give
//! up. Here the reply's body fails with DEADLINE_EXCEEDED once the call is older than the
//! deadline, as kubectl's `--request-timeout` bounds a whole request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::Service;

/// A deadline far enough to be none (about 30 years, as tokio's own "far future"), and
/// near enough to add to any instant.
const NO_DEADLINE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// A channel whose every call, headers and body, ends by its deadline.
#[derive(Debug, Clone)]
pub struct DeadlineChannel {
    channel: Channel,
    timeout: Duration,
}

impl DeadlineChannel {
    pub fn new(channel: Channel, timeout: Duration) -> Self {
        Self { channel, timeout }
    }
}

impl Service<http::Request<Body>> for DeadlineChannel {
    type Response = http::Response<DeadlineBody>;
    type Error = <Channel as Service<http::Request<Body>>>::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.channel.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // A timeout past what the clock counts is no deadline (not an overflow, a panic).
        let deadline = Instant::now() + self.timeout.min(NO_DEADLINE);
        let call = self.channel.call(request);
        Box::pin(async move {
            let response = call.await?;
            Ok(response.map(|body| DeadlineBody {
                body,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
            }))
        })
    }
}

/// A reply body that fails once its call's deadline passes.
pub struct DeadlineBody {
    body: Body,
    deadline: Pin<Box<Sleep>>,
}

impl HttpBody for DeadlineBody {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(tonic::Status::deadline_exceeded(
                "the agent's reply did not arrive within the timeout",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use dpu_proto::dpu::system::v1::GetInventoryRequest;
    use http_body_util::StreamBody;
    use tokio::net::TcpListener;
    use tokio_stream::StreamExt as _;
    use tokio_stream::wrappers::TcpListenerStream;
    use tonic::codegen::Bytes;
    use tonic::server::NamedService;
    use tonic::transport::Endpoint;

    use super::*;

    /// Answers every call with its headers and the first bytes of a reply, then nothing.
    #[derive(Clone)]
    struct Stalls;

    impl NamedService for Stalls {
        const NAME: &'static str = "dpu.system.v1.SystemService";
    }

    impl Service<http::Request<Body>> for Stalls {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<Body>) -> Self::Future {
            // A gRPC message header announcing 100 bytes, and 3 of them.
            let start: Result<_, tonic::Status> =
                Ok(Frame::data(Bytes::from_static(&[0, 0, 0, 0, 100, 1, 2, 3])));
            let frames = tokio_stream::iter([start]).chain(tokio_stream::pending());
            let response = http::Response::builder()
                .header("content-type", "application/grpc")
                .body(Body::new(StreamBody::new(frames)))
                .expect("a valid response");
            std::future::ready(Ok(response))
        }
    }

    /// A channel to a [`Stalls`] server of this test's.
    async fn stalling_channel() -> tonic::transport::Channel {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(Stalls)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        Endpoint::from_shared(format!("http://{address}")).unwrap().connect_lazy()
    }

    #[tokio::test]
    async fn a_reply_that_stalls_after_its_headers_ends_at_the_deadline() {
        let channel = stalling_channel().await;
        // Through the typed client a Client hands out, as dpuctl calls.
        let mut client = crate::Client::over(channel, Duration::from_millis(300)).system();
        // Without the deadline the call waits for ever; the test's own bound tells.
        let outcome = tokio::time::timeout(
            Duration::from_secs(20),
            client.get_inventory(GetInventoryRequest {}),
        )
        .await
        .expect("the call outlived its deadline");
        assert_eq!(outcome.unwrap_err().code(), tonic::Code::DeadlineExceeded);
    }

    /// A timeout past what the clock can count (dpuctl's `--timeout 18446744073709551615`
    /// once) is no deadline, not a panic: the call waits as the reply does.
    #[tokio::test]
    async fn a_timeout_past_the_clock_is_no_deadline() {
        let channel = stalling_channel().await;
        let mut client = crate::Client::over(channel, Duration::MAX).system();
        let outcome = tokio::time::timeout(
            Duration::from_millis(500),
            client.get_inventory(GetInventoryRequest {}),
        )
        .await;
        assert!(outcome.is_err(), "the call ended: {outcome:?}");
    }
}
