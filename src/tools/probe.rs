//! What resolution asks of the host's own tools: where one is on PATH and which version it is.
//! A trait so resolution is testable without processes. The one implementation meshup runs is
//! `host::probe::ProbedTools`, the answers of the host probe (`host::probe::probe`)
//! that preflight, `plan` and `doctor` show: each tool is asked its version once, one way.

use std::path::{Path, PathBuf};

use semver::Version;

use crate::compat::archives::Tool;

/// Finds a tool on PATH and asks its version.
pub trait Probe: Sync {
    fn find(&self, tool: Tool) -> Option<PathBuf>;
    fn version(&self, tool: Tool, path: &Path) -> impl Future<Output = Option<Version>> + Send;
}

/// Parses `v1.24.0`, `1.5.0`, `v1.15.12-dirty`-like tags (a leading `v` is optional).
pub fn parse_tag(s: &str) -> Option<Version> {
    Version::parse(s.trim().trim_start_matches('v')).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_with_or_without_a_v() {
        assert_eq!(parse_tag("v1.24.0"), Some(Version::new(1, 24, 0)));
        assert_eq!(parse_tag(" 1.5.0\n"), Some(Version::new(1, 5, 0)));
        assert_eq!(
            parse_tag("v1.15.12-dirty").map(|v| v.pre.to_string()),
            Some("dirty".into())
        );
        assert_eq!(parse_tag("1.5"), None);
    }
}
