//! Getting one tool version into the cache: look it up, else download it, verify it against its
//! `.sha256` (or the lock's digest), extract what is needed and publish the folder atomically.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use semver::Version;

use super::cache::{self, Cache, Entry, Meta};
use super::download::{DownloadConfig, Downloader, Progress};
use super::error::{Result, ToolError};
use super::extract;
use super::verify::parse_digest_file;
use crate::compat::archives::{self, Artifact, Checksum, Payload, Platform, Tool};

/// The base URL per tool: upstream, or a mirror with the upstream layout below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub minikube: String,
    pub istio: String,
    pub kubectl: String,
}

impl Sources {
    pub fn upstream() -> Sources {
        Sources {
            minikube: Tool::Minikube.upstream_base().to_owned(),
            istio: Tool::Istioctl.upstream_base().to_owned(),
            kubectl: Tool::Kubectl.upstream_base().to_owned(),
        }
    }

    /// Upstream, except where `MESHUP_MINIKUBE_MIRROR`, `MESHUP_ISTIO_MIRROR` or
    /// `MESHUP_KUBECTL_MIRROR` is set.
    pub fn from_env() -> Sources {
        let pick = |tool: Tool| {
            std::env::var(tool.mirror_env())
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| tool.upstream_base().to_owned())
        };
        Sources {
            minikube: pick(Tool::Minikube),
            istio: pick(Tool::Istioctl),
            kubectl: pick(Tool::Kubectl),
        }
    }

    /// A single mirror serving all three tools below `<base>/<tool>/` (tests, air-gapped sites).
    pub fn single(base: &str) -> Sources {
        let base = base.trim_end_matches('/');
        Sources {
            minikube: format!("{base}/minikube"),
            istio: format!("{base}/istio"),
            kubectl: format!("{base}/kubectl"),
        }
    }

    pub fn base(&self, tool: Tool) -> &str {
        match tool {
            Tool::Minikube => &self.minikube,
            Tool::Istioctl => &self.istio,
            Tool::Kubectl => &self.kubectl,
        }
    }
}

/// What `ensure` did.
#[derive(Debug, Clone)]
pub struct Installed {
    pub entry: Entry,
    /// False when the cache already had it (no request was made).
    pub downloaded: bool,
}

pub struct Installer {
    pub cache: Cache,
    pub platform: Platform,
    pub sources: Sources,
    downloader: Downloader,
}

impl Installer {
    pub fn new(
        cache: Cache,
        platform: Platform,
        sources: Sources,
        cfg: DownloadConfig,
    ) -> Result<Self> {
        Ok(Installer {
            cache,
            platform,
            sources,
            downloader: Downloader::new(cfg)?,
        })
    }

    /// The cache under the environment's settings, for this machine's platform.
    pub fn from_env() -> Result<Self> {
        let platform = Platform::current().ok_or_else(|| ToolError::NoArtifact {
            tool: Tool::Minikube,
            version: "any".into(),
            platform: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        })?;
        Installer::new(
            Cache::from_env()?,
            platform,
            Sources::from_env(),
            DownloadConfig::from_env(),
        )
    }

    pub fn artifact(&self, tool: Tool, version: &Version) -> Result<Artifact> {
        archives::artifact(tool, version, self.platform).ok_or_else(|| ToolError::NoArtifact {
            tool,
            version: tool.version_tag(version),
            platform: self.platform.to_string(),
        })
    }

    /// The URL the artifact would be downloaded from now.
    pub fn url(&self, tool: Tool, version: &Version) -> Result<String> {
        Ok(self.artifact(tool, version)?.url(self.sources.base(tool)))
    }

    /// The cached entry, if complete.
    pub fn cached(&self, tool: Tool, version: &Version) -> Option<Entry> {
        self.cache.lookup(tool, &tool.version_tag(version))
    }

    /// Makes `tool@version` available in the cache. With `pinned` (a lock's sha256) the
    /// artifact must hash to it, cached or not, and no `.sha256` is fetched.
    pub async fn ensure(
        &self,
        tool: Tool,
        version: &Version,
        pinned: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<Installed> {
        let artifact = self.artifact(tool, version)?;
        if let Some(entry) = self.cached(tool, version) {
            if let Some(pin) = pinned
                && !entry.meta.sha256.eq_ignore_ascii_case(pin)
            {
                return Err(lock_mismatch(
                    tool,
                    &entry.meta.url,
                    pin,
                    &entry.meta.sha256,
                ));
            }
            return Ok(Installed {
                entry,
                downloaded: false,
            });
        }
        let base = self.sources.base(tool).to_owned();
        let url = artifact.url(&base);
        // A lock's digest is the only one that counts; otherwise the published one must match.
        let published = match pinned {
            Some(_) => None,
            None => Some(self.published_checksum(&artifact, &base).await?),
        };

        let final_dir = self.cache.dir(tool, &artifact.version);
        let staging = extract::staging_dir(&final_dir)?;
        let download_path = staging.path().join(match artifact.payload {
            Payload::Binary => tool.name(),
            Payload::TarGz { .. } => ".download.tar.gz",
        });
        let mut file = fs::File::create(&download_path)
            .map_err(|e| ToolError::io("could not create", &download_path, e))?;
        let sha512 = published.is_some() && artifact.checksum == Checksum::Sha512;
        let fetched = self
            .downloader
            .to_file(tool, &url, &mut file, progress, sha512)
            .await?;
        drop(file);
        if let Some(pin) = pinned
            && !fetched.sha256.eq_ignore_ascii_case(pin)
        {
            return Err(lock_mismatch(tool, &url, pin, &fetched.sha256));
        }
        if let Some(expected) = published {
            let actual = match artifact.checksum {
                Checksum::Sha256 => fetched.sha256.clone(),
                Checksum::Sha512 => fetched.sha512.clone().unwrap_or_default(),
            };
            if actual != expected {
                return Err(ToolError::ChecksumMismatch {
                    tool,
                    url,
                    expected,
                    actual,
                    source_name: format!("its .{} file", artifact.checksum.extension()),
                });
            }
        }

        match &artifact.payload {
            Payload::Binary => {
                fs::set_permissions(&download_path, fs::Permissions::from_mode(0o755))
                    .map_err(|e| ToolError::io("could not make executable", &download_path, e))?
            }
            Payload::TarGz { binary, profiles } => {
                let (archive, dest) = (download_path.clone(), staging.path().to_owned());
                let (name, binary, profiles) =
                    (artifact.file_name.clone(), binary.clone(), profiles.clone());
                let tool_name = tool.name();
                tokio::task::spawn_blocking(move || {
                    extract::extract_istio(&archive, &name, &binary, &profiles, &dest, tool_name)
                })
                .await
                .expect("extraction does not panic")?;
                fs::remove_file(&download_path)
                    .map_err(|e| ToolError::io("could not remove", &download_path, e))?;
            }
        }

        let meta = Meta {
            tool,
            version: artifact.version.clone(),
            platform: self.platform.to_string(),
            url,
            sha256: fetched.sha256,
            bytes: fetched.bytes,
            installed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        cache::write_meta(staging.path(), &meta)?;
        publish(staging, &final_dir)?;
        let entry = self.cache.lookup(tool, &artifact.version).ok_or_else(|| {
            ToolError::io(
                "could not read back",
                &final_dir,
                std::io::Error::other("incomplete cache entry"),
            )
        })?;
        Ok(Installed {
            entry,
            downloaded: true,
        })
    }

    /// The digest upstream publishes next to the artifact (`artifact.checksum` says which).
    pub async fn published_checksum(&self, artifact: &Artifact, base: &str) -> Result<String> {
        let sums_url = artifact.checksum_url(base);
        let text = self.downloader.text(artifact.tool, &sums_url).await?;
        let hex_len = artifact.checksum.hex_len();
        parse_digest_file(&text, &artifact.file_name, hex_len).ok_or(ToolError::BadChecksumFile {
            tool: artifact.tool,
            url: sums_url,
        })
    }

    /// URL and sha256 to lock: from the cache when installed there, else the published `.sha256`.
    /// Releases publishing another digest (kubectl before v1.16: `.sha512`) are installed first,
    /// verified against it, and their sha256 computed.
    pub async fn lock_entry(&self, tool: Tool, version: &Version) -> Result<(String, String)> {
        if let Some(entry) = self.cached(tool, version) {
            return Ok((entry.meta.url, entry.meta.sha256));
        }
        let artifact = self.artifact(tool, version)?;
        if artifact.checksum != Checksum::Sha256 {
            let done = self
                .ensure(tool, version, None, &super::download::Quiet)
                .await?;
            return Ok((done.entry.meta.url, done.entry.meta.sha256));
        }
        let base = self.sources.base(tool).to_owned();
        let sha = self.published_checksum(&artifact, &base).await?;
        Ok((artifact.url(&base), sha))
    }
}

fn lock_mismatch(tool: Tool, url: &str, pin: &str, actual: &str) -> ToolError {
    ToolError::ChecksumMismatch {
        tool,
        url: url.to_owned(),
        expected: pin.to_ascii_lowercase(),
        actual: actual.to_owned(),
        source_name: "meshup.lock".into(),
    }
}

/// Renames the finished folder into place. Losing a race to another meshup that installed the
/// same version is fine: its folder is just as complete, and ours is dropped.
fn publish(staging: tempfile::TempDir, final_dir: &std::path::Path) -> Result<()> {
    let path = staging.keep();
    match fs::rename(&path, final_dir) {
        Ok(()) => Ok(()),
        Err(_) if final_dir.join(cache::META_FILE).is_file() => {
            let _ = fs::remove_dir_all(&path);
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&path);
            Err(ToolError::io("could not move into place", final_dir, e))
        }
    }
}
