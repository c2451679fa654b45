//! A loopback HTTP/1.1 server standing in for a release mirror: it serves fixed bodies, errors,
//! truncated bodies and stalls per path, and logs every request. Written on raw TCP so a test
//! controls exactly what goes on the wire (a Content-Length longer than the body, silence).
//! It runs on its own thread and runtime, so both async tests and tests that run the meshup
//! binary can use it; dropping it stops it and closes every connection.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Debug)]
pub enum Reply {
    Body(Vec<u8>),
    Status(u16),
    /// Announces `claimed` bytes, sends `body`, then closes the connection.
    Truncated {
        body: Vec<u8>,
        claimed: usize,
    },
    /// Accepts the request and never answers.
    Stall,
    /// One reply per request, the last one repeated.
    Sequence(Vec<Reply>),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Reply>,
    served: HashMap<String, usize>,
    log: Vec<String>,
}

pub struct Mirror {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mirror {
    pub fn start() -> Mirror {
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                let accept = async {
                    loop {
                        let Ok((sock, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(handle(sock, shared.clone()));
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime cancels stalled connections, closing their sockets.
        });
        let addr = ready_rx.recv().unwrap();
        Mirror {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>/<prefix>`
    pub fn url(&self, prefix: &str) -> String {
        format!("http://{}/{}", self.addr, prefix.trim_start_matches('/'))
    }

    pub fn serve(&self, path: &str, reply: Reply) {
        let path = format!("/{}", path.trim_start_matches('/'));
        self.state.lock().unwrap().routes.insert(path, reply);
    }

    /// Every request so far, as `GET /path`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(mut sock: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut parts = head.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let reply = {
        let mut st = state.lock().unwrap();
        st.log.push(format!("{method} {path}"));
        let n = *st.served.get(&path).unwrap_or(&0);
        st.served.insert(path.clone(), n + 1);
        match st.routes.get(&path).cloned() {
            Some(Reply::Sequence(replies)) => replies
                .get(n)
                .or(replies.last())
                .cloned()
                .unwrap_or(Reply::Status(404)),
            Some(reply) => reply,
            None => Reply::Status(404),
        }
    };
    let _ = respond(&mut sock, reply).await;
}

async fn respond(sock: &mut tokio::net::TcpStream, reply: Reply) -> std::io::Result<()> {
    let head = |status: u16, len: usize| {
        format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        )
    };
    match reply {
        Reply::Body(body) => {
            sock.write_all(head(200, body.len()).as_bytes()).await?;
            sock.write_all(&body).await?;
        }
        Reply::Status(code) => {
            let body = format!("status {code}\n");
            sock.write_all(head(code, body.len()).as_bytes()).await?;
            sock.write_all(body.as_bytes()).await?;
        }
        Reply::Truncated { body, claimed } => {
            sock.write_all(head(200, claimed).as_bytes()).await?;
            sock.write_all(&body).await?;
        }
        Reply::Stall => std::future::pending::<()>().await,
        Reply::Sequence(_) => unreachable!("resolved before responding"),
    }
    sock.shutdown().await
}
