//! Asking the user's own tools (on PATH) which version they are, through `meshup::exec`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use semver::Version;

use crate::compat::archives::Tool;
use crate::exec;

/// Finds a tool on PATH and asks its version. A trait so resolution is testable without processes.
pub trait Probe: Sync {
    fn find(&self, tool: Tool) -> Option<PathBuf>;
    fn version(&self, tool: Tool, path: &Path) -> impl Future<Output = Option<Version>> + Send;
}

/// The real probe: `which` on the current PATH, then the tool's own version command.
pub struct ExecProbe {
    pub timeout: Duration,
    /// Where to look instead of this process's PATH (tests, or a scenario's own PATH).
    pub search_path: Option<OsString>,
}

impl Default for ExecProbe {
    fn default() -> Self {
        ExecProbe {
            timeout: Duration::from_secs(10),
            search_path: None,
        }
    }
}

impl Probe for ExecProbe {
    fn find(&self, tool: Tool) -> Option<PathBuf> {
        match &self.search_path {
            Some(paths) => {
                which::which_in(tool.name(), Some(paths), std::env::current_dir().ok()?).ok()
            }
            None => which::which(tool.name()).ok(),
        }
    }

    async fn version(&self, tool: Tool, path: &Path) -> Option<Version> {
        let args: &[&str] = match tool {
            Tool::Minikube => &["version", "-o", "json"],
            Tool::Istioctl => &["version", "--remote=false"],
            Tool::Kubectl => &["version", "--client", "-o", "json"],
        };
        let out = exec::Cmd::new(path)
            .args(args)
            .timeout(self.timeout)
            .run()
            .await
            .ok()?;
        match tool {
            Tool::Minikube => parse_minikube_version(&out.stdout),
            Tool::Istioctl => parse_istioctl_version(&out.stdout),
            Tool::Kubectl => parse_kubectl_version(&out.stdout),
        }
    }
}

/// Parses `v1.24.0`, `1.5.0`, `v1.15.12-dirty`-like tags (a leading `v` is optional).
pub fn parse_tag(s: &str) -> Option<Version> {
    Version::parse(s.trim().trim_start_matches('v')).ok()
}

/// `minikube version -o json`: `{"commit":"…","minikubeVersion":"v1.38.1"}`.
pub fn parse_minikube_version(stdout: &str) -> Option<Version> {
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).ok()?;
    parse_tag(json.get("minikubeVersion")?.as_str()?)
}

/// `istioctl version --remote=false`: `1.5.0` (1.5–1.22) or `client version: 1.30.0` (1.23+).
pub fn parse_istioctl_version(stdout: &str) -> Option<Version> {
    stdout
        .lines()
        .filter_map(|line| line.rsplit(':').next())
        .find_map(parse_tag)
}

/// `kubectl version --client -o json`: `{"clientVersion":{"gitVersion":"v1.15.12",…}}`.
pub fn parse_kubectl_version(stdout: &str) -> Option<Version> {
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).ok()?;
    parse_tag(json.get("clientVersion")?.get("gitVersion")?.as_str()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_tools_version_output() {
        let mk = r#"{"commit":"b0d5a8d5c3a0b1c2","minikubeVersion":"v1.38.1"}"#;
        assert_eq!(parse_minikube_version(mk), Some(Version::new(1, 38, 1)));
        assert_eq!(
            parse_istioctl_version("1.5.0\n"),
            Some(Version::new(1, 5, 0))
        );
        assert_eq!(
            parse_istioctl_version("client version: 1.30.0\n"),
            Some(Version::new(1, 30, 0))
        );
        let k = r#"{"clientVersion":{"major":"1","minor":"15","gitVersion":"v1.15.12"}}"#;
        assert_eq!(parse_kubectl_version(k), Some(Version::new(1, 15, 12)));
        assert_eq!(parse_minikube_version("minikube version: v1.38.1"), None);
    }
}
