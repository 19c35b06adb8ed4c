//! The Prometheus scrape endpoint: plain HTTP/1.1, `GET /metrics` only. Bind it on the
//! management side; it reveals counters, never state or secrets.
//!
//! What a peer can make the agent do is bounded: at most [`MAX_CONNECTIONS`] connections,
//! [`MAX_CONNECTIONS_PER_ADDRESS`] of them from one address, one render at a time, and at
//! most one render per [`FRESH_FOR`]: scrapes in between get the last body (as exporters
//! with a cache do), so asking faster costs the agent nothing. A peer that never reads its
//! answers holds its connection until a write waited [`WRITE_STALL`], then it is closed.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, watch};
use tokio::time::{Instant, Sleep};

use crate::places::Places;

/// Renders the current exposition text; it may ask services first (bounded in time).
pub type Render = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = String> + Send>> + Send + Sync>;

/// How long a rendered body answers scrapes after its render ended. Far below any scrape
/// interval (Prometheus: 15 s by default), so two servers scraping one agent both see
/// current figures, while a peer asking in a loop gets a render a second at most.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The last rendered body, shared by every connection.
pub struct Scrapes {
    render: Render,
    /// Held across a render: one at a time, and scrapes that arrive meanwhile wait for it
    /// and take its body (the lock is fair, so none waits behind later ones).
    last: Arc<Mutex<Option<(Instant, Bytes)>>>,
}

impl Scrapes {
    pub fn new(render: Render) -> Self {
        Self { render, last: Arc::default() }
    }

    /// The exposition text: the last one while it is fresh, else a new render.
    pub async fn body(&self) -> Bytes {
        let mut last = self.last.clone().lock_owned().await;
        if let Some((ended, body)) = &*last
            && ended.elapsed() < FRESH_FOR
        {
            return body.clone();
        }
        let render = (self.render)();
        // On a task of its own, with the lock: a scraper that hangs up mid-render does not
        // cancel it, so its body still serves those waiting and the scrapes after.
        let rendered = tokio::spawn(async move {
            let body = Bytes::from(render.await);
            // Fresh from its end: a render slower than FRESH_FOR still serves those who
            // waited.
            *last = Some((Instant::now(), body.clone()));
            body
        });
        rendered.await.unwrap_or_default()
    }
}

async fn respond(req: &Request<Incoming>, scrapes: &Scrapes) -> Response<Full<Bytes>> {
    let (status, body, content_type) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => {
            (StatusCode::OK, scrapes.body().await, "text/plain; version=0.0.4; charset=utf-8")
        }
        (&Method::GET, _) => {
            (StatusCode::NOT_FOUND, Bytes::from("not found; try /metrics\n"), "text/plain")
        }
        _ => (StatusCode::METHOD_NOT_ALLOWED, Bytes::from("only GET\n"), "text/plain"),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        response.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    response
}

/// Connections served at once; more are closed as they arrive (a scraper needs one).
pub const MAX_CONNECTIONS: usize = 64;
/// Connections served at once from one address: a peer cannot take every place.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 8;
/// How long a write may wait for the peer to read before the connection is closed.
pub const WRITE_STALL: Duration = Duration::from_secs(10);

/// A connection whose writes fail once one waited [`WRITE_STALL`] without progress (hyper's
/// own timeouts cover only reading the request's headers).
struct WriteStall<IO> {
    io: IO,
    /// Armed while a write waits, disarmed by progress.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<IO> WriteStall<IO> {
    fn new(io: IO) -> Self {
        Self { io, waiting: None }
    }

    /// `polled` as it is while it makes progress; an error once it waited too long.
    fn checked<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.waiting = None;
            return polled;
        }
        let waiting = self.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(WRITE_STALL)));
        match waiting.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the peer did not read the answer",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for WriteStall<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for WriteStall<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.checked(cx, polled)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.checked(cx, polled)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_shutdown(cx);
        self.checked(cx, polled)
    }
}

/// Serves until `shutdown` turns true.
pub async fn serve(listener: TcpListener, render: Render, mut shutdown: watch::Receiver<bool>) {
    let places = Places::default();
    let scrapes = Arc::new(Scrapes::new(render));
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let Ok(slot) = places.take(peer.ip(), MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS) else {
            drop(stream);
            continue;
        };
        let scrapes = scrapes.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |req| {
                let scrapes = scrapes.clone();
                async move { Ok::<_, Infallible>(respond(&req, &scrapes).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(WriteStall::new(stream)), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Scrapes render once per FRESH_FOR however many arrive: those during a render wait
    /// for it and share its body, those soon after get it from the cache, and one after
    /// FRESH_FOR gets a new render. Paused time: the clock moves only as the test says (and
    /// through the render's sleep, which stands for asking the nvmf service).
    #[tokio::test(start_paused = true)]
    async fn scrapes_render_once_per_fresh_period() {
        let renders = Arc::new(AtomicUsize::new(0));
        let counted = renders.clone();
        let render: Render = Arc::new(move || {
            let counted = counted.clone();
            // Counted as it starts, so a render cancelled half-way counts too.
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                format!("dpud_renders {n}\n")
            })
        });
        let scrapes = Arc::new(Scrapes::new(render));
        let at_once: Vec<_> = (0..32)
            .map(|_| {
                let scrapes = scrapes.clone();
                tokio::spawn(async move { scrapes.body().await })
            })
            .collect();
        for scrape in at_once {
            assert_eq!(scrape.await.unwrap(), "dpud_renders 1\n");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        tokio::time::advance(FRESH_FOR / 2).await;
        for _ in 0..100 {
            assert_eq!(scrapes.body().await, "dpud_renders 1\n");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        tokio::time::advance(FRESH_FOR / 2).await;
        assert_eq!(scrapes.body().await, "dpud_renders 2\n");
        assert_eq!(renders.load(Ordering::SeqCst), 2);

        // A scraper that hangs up mid-render leaves the render to finish, and its body
        // serves the next scrape: hanging up in a loop buys no extra render.
        tokio::time::advance(FRESH_FOR).await;
        let hung_up = tokio::time::timeout(Duration::from_millis(100), scrapes.body()).await;
        assert!(hung_up.is_err());
        assert_eq!(scrapes.body().await, "dpud_renders 3\n");
        assert_eq!(renders.load(Ordering::SeqCst), 3);
    }
}
