//! `meshup.lock`: the versions, URLs and sha256 digests a scenario's tools resolved to on one
//! platform. A `.sha256` fetched from the same server as the file only proves the server agrees
//! with itself; the lock pins the digest across machines and time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::{Deserialize, Serialize};

use super::error::{Result, ToolError};
use super::probe::parse_tag;
use super::verify::is_sha256_hex;
use crate::compat::archives::{Platform, Tool};

pub const LOCK_FILE: &str = "meshup.lock";
const HEADER: &str = "# Written by `meshup lock`. Commit it: `meshup start --locked` (implied in CI mode) then\n\
# uses exactly these files and refuses any whose sha256 differs.\n";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lock {
    pub lock_version: u32,
    /// The platform the URLs and digests are for (`linux-amd64`).
    pub platform: String,
    pub tools: BTreeMap<Tool, LockedTool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedTool {
    pub version: String,
    pub url: String,
    pub sha256: String,
}

impl Lock {
    pub fn new(platform: Platform) -> Lock {
        Lock {
            lock_version: 1,
            platform: platform.to_string(),
            tools: BTreeMap::new(),
        }
    }

    /// `meshup.lock` next to the scenario file, or in the current directory.
    pub fn path_for(scenario: Option<&Path>) -> PathBuf {
        match scenario.and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(LOCK_FILE),
            _ => PathBuf::from(LOCK_FILE),
        }
    }

    /// The lock at `path`, `None` if there is no such file.
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ToolError::io("could not read", path, e)),
        };
        let bad = |reason: String| ToolError::BadLock {
            path: path.to_owned(),
            reason,
        };
        let lock: Lock = serde_yaml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if lock.lock_version != 1 {
            return Err(bad(format!(
                "lockVersion {} is not supported (this meshup writes 1)",
                lock.lock_version
            )));
        }
        for (tool, entry) in &lock.tools {
            if parse_tag(&entry.version).is_none() {
                return Err(bad(format!("{tool}: {:?} is not a version", entry.version)));
            }
            if !is_sha256_hex(&entry.sha256) {
                return Err(bad(format!("{tool}: sha256 must be 64 hex digits")));
            }
        }
        Ok(Some(lock))
    }

    /// Writes the file atomically (temp file + rename), with a header saying what it is for.
    pub fn write(&self, path: &Path) -> Result<()> {
        let body = serde_yaml::to_string(self).expect("Lock serializes");
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".meshup.lock.")
            .tempfile_in(&dir)
            .map_err(|e| ToolError::io("could not create a temporary file in", &dir, e))?;
        std::io::Write::write_all(&mut tmp, format!("{HEADER}{body}").as_bytes())
            .map_err(|e| ToolError::io("could not write", tmp.path().to_owned(), e))?;
        tmp.persist(path)
            .map_err(|e| ToolError::io("could not write", path, e.error))?;
        Ok(())
    }

    /// The lock a run must honour: with `--locked` the file must exist; in CI mode one is used
    /// when present; otherwise none (what was resolved is printed instead).
    pub fn for_run(
        locked: bool,
        ci: bool,
        scenario: Option<&Path>,
        platform: Platform,
    ) -> Result<Option<Lock>> {
        if !locked && !ci {
            return Ok(None);
        }
        let path = Lock::path_for(scenario);
        match Lock::read(&path)? {
            Some(lock) => {
                lock.check_platform(platform)?;
                Ok(Some(lock))
            }
            None if locked => Err(ToolError::LockMissing { path }),
            None => Ok(None),
        }
    }

    /// A lock made on another platform pins other files: refuse rather than guess.
    pub fn check_platform(&self, platform: Platform) -> Result<()> {
        let here = platform.to_string();
        if self.platform != here {
            return Err(ToolError::LockMismatch {
                tool: Tool::Minikube,
                field: "platform",
                locked: self.platform.clone(),
                resolved: here,
            });
        }
        Ok(())
    }

    /// The locked version and sha256 of `tool`.
    pub fn pinned(&self, tool: Tool) -> Result<(Version, String)> {
        let entry = self.tools.get(&tool).ok_or(ToolError::NotLocked { tool })?;
        let version = parse_tag(&entry.version).ok_or(ToolError::NotLocked { tool })?;
        Ok((version, entry.sha256.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::archives::{Arch, Os};

    #[test]
    fn round_trips_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        assert_eq!(Lock::read(&path).unwrap(), None);
        let mut lock = Lock::new(Platform {
            os: Os::Linux,
            arch: Arch::Amd64,
        });
        lock.tools.insert(
            Tool::Minikube,
            LockedTool {
                version: "v1.24.0".into(),
                url: "http://x/v1.24.0/minikube-linux-amd64".into(),
                sha256: "a".repeat(64),
            },
        );
        lock.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Written by `meshup lock`"), "{text}");
        assert!(text.contains("lockVersion: 1"), "{text}");
        assert_eq!(Lock::read(&path).unwrap(), Some(lock.clone()));
        assert_eq!(
            lock.pinned(Tool::Minikube).unwrap(),
            (Version::new(1, 24, 0), "a".repeat(64))
        );
        assert!(matches!(
            lock.pinned(Tool::Kubectl),
            Err(ToolError::NotLocked { .. })
        ));
        assert!(
            lock.check_platform(Platform {
                os: Os::Darwin,
                arch: Arch::Arm64
            })
            .is_err()
        );

        std::fs::write(&path, text.replace(&"a".repeat(64), "abc")).unwrap();
        assert!(matches!(Lock::read(&path), Err(ToolError::BadLock { .. })));
    }

    #[test]
    fn lives_next_to_the_scenario() {
        assert_eq!(
            Lock::path_for(Some(Path::new("scenarios/x.yaml"))),
            PathBuf::from("scenarios/meshup.lock")
        );
        assert_eq!(
            Lock::path_for(Some(Path::new("x.yaml"))),
            PathBuf::from("meshup.lock")
        );
        assert_eq!(Lock::path_for(None), PathBuf::from("meshup.lock"));
    }
}
