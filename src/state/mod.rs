//! meshup's own files for each cluster profile: `$XDG_STATE_HOME/meshup/profiles/<profile>/`
//! (or `$MESHUP_STATE_DIR/profiles/<profile>/`). It holds the record of what each stage did, the
//! lock that keeps two meshups off one profile, and files stages keep (kubeconfig, manifests,
//! the tunnel's pid and log).

mod lock;
mod record;

pub use lock::ProfileLock;
pub use record::{Record, StageRecord, StageStatus};

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The root of meshup's state: `profiles/` and `diagnostics/` live under it.
#[derive(Debug, Clone)]
pub struct StateRoot {
    dir: PathBuf,
}

impl StateRoot {
    pub fn from_env() -> StateRoot {
        let dir = if let Some(dir) = std::env::var_os("MESHUP_STATE_DIR").filter(|d| !d.is_empty())
        {
            PathBuf::from(dir)
        } else if let Some(xdg) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
            PathBuf::from(xdg).join("meshup")
        } else {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".local/state/meshup")
        };
        StateRoot { dir }
    }

    pub fn at(dir: impl Into<PathBuf>) -> StateRoot {
        StateRoot { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn profile(&self, name: &str) -> ProfileState {
        ProfileState {
            dir: self.dir.join("profiles").join(name),
            name: name.to_owned(),
        }
    }

    pub fn diagnostics(&self) -> PathBuf {
        self.dir.join("diagnostics")
    }

    /// Profiles meshup has state for, i.e. the ones it created: `down --all` touches only these.
    pub fn profiles(&self) -> anyhow::Result<Vec<ProfileState>> {
        let dir = self.dir.join("profiles");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names.iter().map(|n| self.profile(n)).collect())
    }
}

/// One profile's state directory.
#[derive(Debug, Clone)]
pub struct ProfileState {
    dir: PathBuf,
    name: String,
}

impl ProfileState {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn ensure(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating meshup's state dir {}", self.dir.display()))
    }

    /// Takes the profile's lock, or fails with exit 10 naming who holds it.
    pub fn lock(&self, command: &str) -> anyhow::Result<ProfileLock> {
        self.ensure()?;
        ProfileLock::acquire(&self.dir.join("lock"), &self.name, command)
    }

    pub fn record(&self) -> anyhow::Result<Record> {
        Record::load(&self.dir.join("state.json"))
    }

    pub fn save(&self, record: &Record) -> anyhow::Result<()> {
        self.ensure()?;
        write_atomically(
            &self.dir.join("state.json"),
            &serde_json::to_vec_pretty(record)?,
        )
    }

    /// Removes everything meshup kept for the profile (after `minikube delete`).
    pub fn remove(&self) -> anyhow::Result<()> {
        match std::fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", self.dir.display()))
            }
            _ => Ok(()),
        }
    }
}

/// A reader never sees half a file: write beside it, then rename over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests;
