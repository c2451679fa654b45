//! The API server's HTTPS listener: TLS with required client certificates, HTTP/1.1, and the
//! API fault knobs (503s, connection resets, outages during which the port refuses connections).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinSet;

use super::cluster::Cluster;
use super::util;

/// Bind 127.0.0.1 on the given port (0: any free one).
pub fn bind(port: Option<u16>) -> anyhow::Result<(TcpListener, u16)> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0))))?;
    let listener = socket.listen(1024)?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

#[derive(Debug)]
struct Reset;
impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the fault knob")
    }
}
impl std::error::Error for Reset {}

pub async fn serve(cluster: Arc<Cluster>, listener: TcpListener) {
    let acceptor = tokio_rustls::TlsAcceptor::from(cluster.pki.server_config.clone());
    let mut listener = Some(listener);
    let mut conns = JoinSet::new();
    loop {
        // The next outage, in time from now, if any is still ahead.
        let elapsed = cluster.started_at.lock().unwrap().elapsed();
        let next = cluster
            .knobs()
            .api
            .outages
            .iter()
            .filter(|o| Duration::from_millis(o.after_ms + o.for_ms) > elapsed)
            .map(|o| {
                (
                    Duration::from_millis(o.after_ms).saturating_sub(elapsed),
                    Duration::from_millis(o.for_ms),
                )
            })
            .min();
        let Some(l) = listener.as_ref() else { return };
        let accepted = match next {
            Some((wait, length)) => tokio::select! {
                a = l.accept() => a,
                _ = tokio::time::sleep(wait) => {
                    let port = l.local_addr().map(|a| a.port()).ok();
                    drop(listener.take());
                    conns.abort_all();
                    eprintln!("api {}: outage for {} ms", cluster.profile, length.as_millis());
                    tokio::time::sleep(length).await;
                    match bind(port) {
                        Ok((l, _)) => listener = Some(l),
                        Err(e) => { eprintln!("api {}: rebind failed: {e}", cluster.profile); return; }
                    }
                    continue;
                }
            },
            None => l.accept().await,
        };
        while conns.try_join_next().is_some() {}
        let Ok((tcp, _)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let cluster = cluster.clone();
        conns.spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                let cluster = cluster.clone();
                async move {
                    let api = cluster.knobs().api;
                    if api.reset_rate > 0.0 && util::rand_f64() < api.reset_rate {
                        return Err(Reset);
                    }
                    if api.error_rate > 0.0 && util::rand_f64() < api.error_rate {
                        return Ok(unavailable());
                    }
                    use futures::FutureExt;
                    let handled = std::panic::AssertUnwindSafe(super::api::handle(
                        cluster,
                        req.map(Body::new),
                    ));
                    Ok::<_, Reset>(
                        handled
                            .catch_unwind()
                            .await
                            .unwrap_or_else(|_| internal_error()),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc)
                .await;
        });
    }
}

fn internal_error() -> Response<Body> {
    let status = super::status::ApiError::new(
        500,
        "InternalError",
        "the emulator failed on this request (see daemon.log)",
    );
    Response::builder()
        .status(500)
        .header("content-type", "application/json")
        .body(Body::from(status.to_status().to_string()))
        .expect("response")
}

fn unavailable() -> Response<Body> {
    let status = super::status::ApiError::new(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
    );
    Response::builder()
        .status(503)
        .header("content-type", "application/json")
        .body(Body::from(status.to_status().to_string()))
        .expect("response")
}
