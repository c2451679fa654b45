//! The tool cache: `$XDG_CACHE_HOME/meshup/tools/<tool>/<version>/` (or `$MESHUP_TOOLS_DIR/...`).
//!
//! A version folder is built as `.<version>.partial-XXXX` next to its final place and renamed
//! into place once complete, with `meshup-tool.json` written last before the rename: a folder
//! without the `.partial` prefix is therefore always whole, and a crash leaves only a
//! `.partial` folder that `prune` removes.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{Result, ToolError};
use crate::compat::archives::Tool;

pub const META_FILE: &str = "meshup-tool.json";

/// What meshup recorded about a cached tool when it installed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub tool: Tool,
    pub version: String,
    pub platform: String,
    /// Where the artifact came from, and the sha256 it was verified against.
    pub url: String,
    pub sha256: String,
    pub bytes: u64,
    pub installed_at: String,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub meta: Meta,
    pub dir: PathBuf,
    /// The executable to run.
    pub binary: PathBuf,
}

impl Entry {
    /// Bytes on disk (binary, profiles, metadata).
    pub fn size(&self) -> u64 {
        dir_size(&self.dir)
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `MESHUP_TOOLS_DIR`, else `<XDG cache dir>/meshup/tools`.
    pub fn from_env() -> Result<Cache> {
        if let Some(dir) = std::env::var_os("MESHUP_TOOLS_DIR").filter(|d| !d.is_empty()) {
            return Ok(Cache::at(dir));
        }
        let base = directories::BaseDirs::new().ok_or(ToolError::NoCacheDir)?;
        Ok(Cache::at(base.cache_dir().join("meshup").join("tools")))
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, tool: Tool, version: &str) -> PathBuf {
        self.root.join(tool.name()).join(version)
    }

    /// A complete entry, or `None` (absent, or not written by meshup).
    pub fn lookup(&self, tool: Tool, version: &str) -> Option<Entry> {
        read_entry(&self.dir(tool, version))
    }

    /// Every complete entry, by tool then version folder name.
    pub fn list(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        for tool in Tool::ALL {
            for dir in subdirs(&self.root.join(tool.name())) {
                if !is_partial(&dir)
                    && let Some(entry) = read_entry(&dir)
                {
                    entries.push(entry);
                }
            }
        }
        entries
    }

    /// Leftovers of interrupted installs (`.partial` folders, folders without metadata).
    pub fn leftovers(&self) -> Vec<PathBuf> {
        Tool::ALL
            .into_iter()
            .flat_map(|tool| subdirs(&self.root.join(tool.name())))
            .filter(|dir| is_partial(dir) || read_entry(dir).is_none())
            .collect()
    }

    pub fn remove(&self, dir: &Path) -> Result<()> {
        fs::remove_dir_all(dir).map_err(|e| ToolError::io("could not remove", dir, e))
    }
}

fn is_partial(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.contains(".partial-"))
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

fn read_entry(dir: &Path) -> Option<Entry> {
    let meta: Meta = serde_json::from_slice(&fs::read(dir.join(META_FILE)).ok()?).ok()?;
    let binary = dir.join(meta.tool.name());
    binary.is_file().then(|| Entry {
        meta,
        dir: dir.to_owned(),
        binary,
    })
}

pub fn write_meta(dir: &Path, meta: &Meta) -> Result<()> {
    let path = dir.join(META_FILE);
    let text = serde_json::to_vec_pretty(meta).expect("Meta serializes");
    fs::write(&path, text).map_err(|e| ToolError::io("could not write", path, e))
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}
