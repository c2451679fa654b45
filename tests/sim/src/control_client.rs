//! A small blocking HTTP/1.1 client of the world daemon's control API (CONTRACT.md), over a
//! plain `TcpStream`: the fakes are short-lived CLIs and must start fast, so no async stack.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::control::{
    Backend, ClusterInfo, ClusterSpec, ExposedService, TunnelRequest, Via, WorldInfo,
};

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the simulated world is not running: {0}")]
    NoWorld(String),
    #[error("control API {method} {path}: {source}")]
    Io {
        method: String,
        path: String,
        source: std::io::Error,
    },
    #[error("control API {method} {path} answered {status}: {body}")]
    Status {
        method: String,
        path: String,
        status: u16,
        body: String,
    },
    #[error("control API {path}: bad JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct ControlClient {
    /// `127.0.0.1:PORT`
    addr: String,
}

impl ControlClient {
    /// `base` is the `control` URL from `world.json` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Self {
        let addr = base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        ControlClient { addr }
    }

    /// From `<world dir>/world.json`.
    pub fn from_world_dir(dir: &Path) -> Result<Self, ControlError> {
        let text = std::fs::read_to_string(dir.join("world.json")).map_err(|e| {
            ControlError::NoWorld(format!("{}: {e}", dir.join("world.json").display()))
        })?;
        let info: WorldInfo = serde_json::from_str(&text)
            .map_err(|e| ControlError::NoWorld(format!("world.json: {e}")))?;
        Ok(Self::new(&info.control))
    }

    /// One request; any status is returned (errors are for I/O only).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Response, ControlError> {
        let io = |source| ControlError::Io {
            method: method.to_string(),
            path: path.to_string(),
            source,
        };
        let mut stream = TcpStream::connect(&self.addr).map_err(io)?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(io)?;
        let body = body.unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(io)?;
        parse_response(&raw)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Option<T>, ControlError> {
        let resp = self.request(method, path, body.as_deref())?;
        if resp.status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&resp.status) {
            return Err(ControlError::Status {
                method: method.to_string(),
                path: path.to_string(),
                status: resp.status,
                body: String::from_utf8_lossy(&resp.body).into_owned(),
            });
        }
        if resp.body.is_empty() || resp.status == 204 {
            return serde_json::from_slice(b"null").map(Some).or(Ok(None));
        }
        serde_json::from_slice(&resp.body)
            .map(Some)
            .map_err(|source| ControlError::Json {
                path: path.to_string(),
                source,
            })
    }

    fn json<B: Serialize>(body: &B) -> Option<Vec<u8>> {
        Some(serde_json::to_vec(body).expect("serializable"))
    }

    pub fn healthy(&self) -> bool {
        self.request("GET", "/healthz", None)
            .is_ok_and(|r| r.status == 200)
    }

    pub fn clusters(&self) -> Result<Vec<ClusterInfo>, ControlError> {
        Ok(self.call("GET", "/clusters", None)?.unwrap_or_default())
    }

    /// `None` when the world has no such cluster.
    pub fn cluster(&self, profile: &str) -> Result<Option<ClusterInfo>, ControlError> {
        self.call("GET", &format!("/clusters/{profile}"), None)
    }

    pub fn put_cluster(
        &self,
        profile: &str,
        spec: &ClusterSpec,
    ) -> Result<ClusterInfo, ControlError> {
        let path = format!("/clusters/{profile}");
        self.call("PUT", &path, Self::json(spec))?
            .ok_or(ControlError::Status {
                method: "PUT".into(),
                path,
                status: 404,
                body: String::new(),
            })
    }

    pub fn stop_cluster(&self, profile: &str) -> Result<(), ControlError> {
        self.call::<serde_json::Value>("POST", &format!("/clusters/{profile}/stop"), None)
            .map(|_| ())
    }

    pub fn delete_cluster(&self, profile: &str) -> Result<(), ControlError> {
        self.call::<serde_json::Value>("DELETE", &format!("/clusters/{profile}"), None)
            .map(|_| ())
    }

    /// Registers a tunnel the daemon serves itself (`Via::Direct`); `None` when the cluster
    /// does not exist.
    pub fn put_tunnel(
        &self,
        profile: &str,
        pid: u32,
    ) -> Result<Option<Vec<ExposedService>>, ControlError> {
        self.put_tunnel_via(profile, pid, Via::Direct)
    }

    /// A tunnel's poll: patch addresses into the LoadBalancer Services that exist now.
    pub fn put_tunnel_via(
        &self,
        profile: &str,
        pid: u32,
        via: Via,
    ) -> Result<Option<Vec<ExposedService>>, ControlError> {
        self.call(
            "PUT",
            &format!("/clusters/{profile}/tunnel"),
            Self::json(&TunnelRequest { pid, via }),
        )
    }

    /// Where each LoadBalancer Service port is served inside the cluster.
    pub fn backends(&self, profile: &str) -> Result<Option<Vec<Backend>>, ControlError> {
        self.call::<Vec<Backend>>("GET", &format!("/clusters/{profile}/backends"), None)
    }

    pub fn delete_tunnel(&self, profile: &str) -> Result<(), ControlError> {
        self.call::<serde_json::Value>("DELETE", &format!("/clusters/{profile}/tunnel"), None)
            .map(|_| ())
    }
}

/// Status line, headers, then a body framed by Content-Length, chunked encoding, or EOF.
fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if name == "content-length" {
            length = value.parse::<usize>().ok();
        }
    }
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or("bad chunk")?;
            let size_text = String::from_utf8_lossy(&rest[..end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "bad chunk size")?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(..size).ok_or("short chunk")?);
            rest = rest.get(size + 2..).unwrap_or_default();
        }
        body
    } else {
        match length {
            Some(n) => rest.get(..n).ok_or("short body")?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_and_chunked_bodies() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"[]"[..]));
        let r = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"abcde"[..]));
    }
}
