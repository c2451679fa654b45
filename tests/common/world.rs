//! The library-level test world: a loopback mirror, a temporary cache and an installer for
//! linux-amd64 with millisecond timeouts.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use meshup::compat::archives::{Arch, Os, Platform};
use meshup::error::{ExitKind, Failure};
use meshup::plan::{Probes, ToolProbe};
use meshup::tools::cache::Cache;
use meshup::tools::{DownloadConfig, Installed, Installer, Quiet, Sources, Tool, ToolError};
use semver::Version;

use super::fixtures::files_under;
use super::mirror::Mirror;

pub const LINUX: Platform = Platform {
    os: Os::Linux,
    arch: Arch::Amd64,
};

pub struct World {
    pub mirror: Mirror,
    pub tmp: tempfile::TempDir,
    pub installer: Installer,
}

impl World {
    /// The installer's `ensure` of `tool` at `version`, with no pinned digest and no progress.
    pub async fn ensure(&self, tool: Tool, version: &str) -> Result<Installed, ToolError> {
        self.installer.ensure(tool, &v(version), None, &Quiet).await
    }
}

pub fn world() -> World {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = DownloadConfig {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_millis(300),
        retries: 1,
        backoff: Duration::from_millis(1),
    };
    let installer = Installer::new(
        Cache::at(tmp.path().join("tools")),
        LINUX,
        Sources::single(&mirror.url("")),
        cfg,
    )
    .unwrap();
    World {
        mirror,
        tmp,
        installer,
    }
}

pub fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// What the host probe (`host::probe::probe`, the one way meshup asks a tool its version)
/// reports for tools found in `dir` at these versions; resolution reads it through
/// `ProbedTools`.
pub fn found_in(dir: &Path, tools: &[(Tool, &str)]) -> Probes {
    let mut probes = Probes::default();
    for (tool, version) in tools {
        let found = ToolProbe::Found {
            path: dir.join(tool.name()),
            version: meshup::compat::Version::parse(version),
            problem: None,
        };
        match tool {
            Tool::Minikube => probes.minikube = found,
            Tool::Istioctl => probes.istioctl = found,
            Tool::Kubectl => probes.kubectl = found,
        }
    }
    probes
}

/// The failure a user would see: exit 4, and nothing at all in the cache.
pub fn assert_clean_failure(w: &World, err: ToolError) -> String {
    let text = err.to_string();
    let failure = Failure::from(err);
    assert_eq!(failure.kind, ExitKind::Tools, "{text}");
    assert!(!failure.hints.is_empty(), "{text} has no hint");
    assert_eq!(
        files_under(w.tmp.path()),
        Vec::<String>::new(),
        "{text} left files behind"
    );
    let tools = w.tmp.path().join("tools");
    let dirs: Vec<_> = Tool::ALL
        .iter()
        .flat_map(|t| {
            std::fs::read_dir(tools.join(t.name()))
                .into_iter()
                .flatten()
        })
        .collect();
    assert!(dirs.is_empty(), "{text} left folders behind: {dirs:?}");
    text
}
