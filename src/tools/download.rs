//! HTTP downloads: streamed to a file while hashing, with timeouts and a bounded retry for
//! transient failures (connection refused or reset, stalls, 5xx). A 404 or any other 4xx is
//! final; checksum mismatches are decided by the caller and never retried.

use std::io::Write;
use std::time::Duration;

use sha2::{Digest, Sha256, Sha512};

use super::error::{Result, ToolError};
use crate::compat::archives::Tool;

/// Timeouts and retries. Tests shrink them through the environment so a stall costs milliseconds.
#[derive(Debug, Clone)]
pub struct DownloadConfig {
    pub connect_timeout: Duration,
    /// The longest silence tolerated while waiting for headers or the next chunk.
    pub read_timeout: Duration,
    /// Extra attempts after the first, for transient failures only.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
}

impl Default for DownloadConfig {
    fn default() -> Self {
        DownloadConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

impl DownloadConfig {
    /// `MESHUP_DOWNLOAD_TIMEOUT_MS` (connect and read), `MESHUP_DOWNLOAD_RETRIES`,
    /// `MESHUP_DOWNLOAD_BACKOFF_MS`; unparsable values keep the defaults.
    pub fn from_env() -> Self {
        let num = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut cfg = DownloadConfig::default();
        if let Some(ms) = num("MESHUP_DOWNLOAD_TIMEOUT_MS") {
            cfg.connect_timeout = Duration::from_millis(ms);
            cfg.read_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = num("MESHUP_DOWNLOAD_RETRIES") {
            cfg.retries = n.min(10) as u32;
        }
        if let Some(ms) = num("MESHUP_DOWNLOAD_BACKOFF_MS") {
            cfg.backoff = Duration::from_millis(ms);
        }
        cfg
    }
}

/// Download progress, implemented by the reporter (indicatif or JSON events); tools never draw.
pub trait Progress: Send + Sync {
    fn started(&self, _tool: Tool, _url: &str, _total: Option<u64>) {}
    fn advanced(&self, _bytes: u64) {}
    fn retrying(&self, _tool: Tool, _attempt: u32, _reason: &str) {}
    fn finished(&self, _tool: Tool) {}
}

/// Progress nobody watches.
pub struct Quiet;
impl Progress for Quiet {}

/// What a completed download produced.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub sha256: String,
    /// Only when asked for (kubectl before v1.16 publishes `.sha512` only).
    pub sha512: Option<String>,
    pub bytes: u64,
}

enum Attempt {
    /// Worth another try (the network or the server may recover).
    Transient(ToolError),
    Final(ToolError),
}

pub struct Downloader {
    client: reqwest::Client,
    cfg: DownloadConfig,
}

impl Downloader {
    pub fn new(cfg: DownloadConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("meshup/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.connect_timeout)
            .build()
            .map_err(|e| ToolError::Network {
                tool: Tool::Minikube,
                url: String::new(),
                attempts: 0,
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Downloader { client, cfg })
    }

    pub fn config(&self) -> &DownloadConfig {
        &self.cfg
    }

    /// A small text file (a `.sha256`), whole.
    pub async fn text(&self, tool: Tool, url: &str) -> Result<String> {
        let mut buf = Vec::new();
        self.retrying(
            tool,
            url,
            &Quiet,
            false,
            |b: &mut Vec<u8>| b.clear(),
            &mut buf,
        )
        .await?;
        String::from_utf8(buf).map_err(|_| ToolError::BadChecksumFile {
            tool,
            url: url.to_owned(),
        })
    }

    /// Streams `url` into `out` (rewound and emptied before each retry), hashing as it goes.
    pub async fn to_file(
        &self,
        tool: Tool,
        url: &str,
        out: &mut std::fs::File,
        progress: &dyn Progress,
        with_sha512: bool,
    ) -> Result<Fetched> {
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, out);
        let fetched = self
            .retrying(
                tool,
                url,
                progress,
                with_sha512,
                |w: &mut std::io::BufWriter<&mut std::fs::File>| {
                    // Best effort: a failed rewind shows up as a write error on the next attempt.
                    let _ = w.flush();
                    let f = w.get_mut();
                    let _ = f.set_len(0);
                    let _ = std::io::Seek::rewind(f);
                },
                &mut writer,
            )
            .await?;
        writer
            .flush()
            .map_err(|e| ToolError::io("could not write", url, e))?;
        Ok(fetched)
    }

    async fn retrying<W: Write>(
        &self,
        tool: Tool,
        url: &str,
        progress: &dyn Progress,
        with_sha512: bool,
        mut reset: impl FnMut(&mut W),
        out: &mut W,
    ) -> Result<Fetched> {
        let attempts = self.cfg.retries + 1;
        let mut attempt = 1;
        loop {
            match self
                .once(tool, url, progress, with_sha512, out, attempt)
                .await
            {
                Ok(fetched) => {
                    progress.finished(tool);
                    return Ok(fetched);
                }
                Err(Attempt::Final(e)) => return Err(e),
                Err(Attempt::Transient(e)) if attempt >= attempts => return Err(e),
                Err(Attempt::Transient(e)) => {
                    progress.retrying(tool, attempt, &e.to_string());
                    reset(out);
                    let wait = self.cfg.backoff.saturating_mul(1 << (attempt - 1).min(6));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn once<W: Write>(
        &self,
        tool: Tool,
        url: &str,
        progress: &dyn Progress,
        with_sha512: bool,
        out: &mut W,
        attempts: u32,
    ) -> std::result::Result<Fetched, Attempt> {
        let stalled = || {
            Attempt::Transient(ToolError::Stalled {
                tool,
                url: url.to_owned(),
                after: self.cfg.read_timeout,
                attempts,
            })
        };
        let network = |e: &dyn std::fmt::Display| {
            Attempt::Transient(ToolError::Network {
                tool,
                url: url.to_owned(),
                attempts,
                reason: e.to_string(),
            })
        };
        let mut response = tokio::time::timeout(self.cfg.read_timeout, self.client.get(url).send())
            .await
            .map_err(|_| stalled())?
            .map_err(|e| match e.is_builder() {
                true => Attempt::Final(ToolError::Network {
                    tool,
                    url: url.to_owned(),
                    attempts,
                    reason: e.to_string(),
                }),
                false => network(&error_chain(&e)),
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(Attempt::Final(ToolError::NotFound {
                tool,
                url: url.to_owned(),
            }));
        }
        if !status.is_success() {
            let err = ToolError::Http {
                tool,
                url: url.to_owned(),
                status: status.as_u16(),
                attempts,
            };
            let transient =
                status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
            return Err(if transient {
                Attempt::Transient(err)
            } else {
                Attempt::Final(err)
            });
        }
        let total = response.content_length();
        progress.started(tool, url, total);
        let mut hasher = Sha256::new();
        let mut hasher512 = with_sha512.then(Sha512::new);
        let mut got = 0u64;
        let truncated = |got| ToolError::Truncated {
            tool,
            url: url.to_owned(),
            expected: total.unwrap_or(0),
            got,
        };
        loop {
            let chunk = match tokio::time::timeout(self.cfg.read_timeout, response.chunk()).await {
                Err(_) => return Err(stalled()),
                Ok(Err(_)) if total.is_some_and(|t| got < t) => {
                    return Err(Attempt::Transient(truncated(got)));
                }
                Ok(Err(e)) => return Err(network(&error_chain(&e))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            hasher.update(&chunk);
            if let Some(h) = hasher512.as_mut() {
                h.update(&chunk);
            }
            out.write_all(&chunk).map_err(|e| {
                Attempt::Final(ToolError::io("could not write the download of", url, e))
            })?;
            got += chunk.len() as u64;
            progress.advanced(chunk.len() as u64);
        }
        if total.is_some_and(|t| got != t) {
            return Err(Attempt::Transient(truncated(got)));
        }
        Ok(Fetched {
            sha256: hex::encode(hasher.finalize()),
            sha512: hasher512.map(|h| hex::encode(h.finalize())),
            bytes: got,
        })
    }
}

/// reqwest's own message repeats the URL ("error sending request for url (...)"); the useful
/// part is the deepest cause ("Connection refused (os error 111)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut deepest = e;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}
