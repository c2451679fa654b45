//! Release numbers as the tools print them: Kubernetes and minikube with a `v`, Istio without.

use std::fmt;
use std::str::FromStr;

/// `major.minor.patch[-pre]`, ordered like semver (a pre-release sorts before its release).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub semver::Version);

/// A `major.minor` release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Minor {
    pub major: u64,
    pub minor: u64,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version(semver::Version::new(major, minor, patch))
    }

    /// Parses `v1.15.10`, `1.15.10` or `1.20.0-beta.1` (a leading `v` is optional).
    pub fn parse(input: &str) -> Option<Self> {
        let s = input.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        // semver accepts build metadata and leading `=`; release numbers never carry them.
        if s.contains('+') || s.starts_with(|c: char| !c.is_ascii_digit()) {
            return None;
        }
        semver::Version::parse(s).ok().map(Version)
    }

    pub fn minor(&self) -> Minor {
        Minor {
            major: self.0.major,
            minor: self.0.minor,
        }
    }

    pub fn patch(&self) -> u64 {
        self.0.patch
    }

    pub fn is_prerelease(&self) -> bool {
        !self.0.pre.is_empty()
    }

    /// `v1.15.10`: how Kubernetes and minikube write their versions.
    pub fn v(&self) -> String {
        format!("v{}", self.0)
    }
}

impl fmt::Display for Version {
    /// Without a `v` (Istio's form); use [`Version::v`] for Kubernetes and minikube.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Minor {
    pub const fn new(major: u64, minor: u64) -> Self {
        Minor { major, minor }
    }

    /// Parses `1.15` or `v1.15`.
    pub fn parse(input: &str) -> Option<Self> {
        let s = input.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let (major, minor) = s.split_once('.')?;
        let digits =
            |p: &str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) || (minor.len() > 1 && minor.starts_with('0')) {
            return None;
        }
        Some(Minor {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    pub fn with_patch(self, patch: u64) -> Version {
        Version::new(self.major, self.minor, patch)
    }

    pub fn next(self) -> Minor {
        Minor::new(self.major, self.minor + 1)
    }
}

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s).ok_or_else(|| format!("`{s}` is not a version like 1.15.10"))
    }
}

/// Table rows are written as string literals; a typo there is a bug caught by the tests.
pub(crate) fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|| panic!("bad version literal in a compat table: {s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_spellings() {
        assert_eq!(Version::parse("v1.15.10"), Version::parse("1.15.10"));
        assert_eq!(Version::parse("1.15.10").unwrap().v(), "v1.15.10");
        assert!(Version::parse("1.20.0-beta.1").unwrap().is_prerelease());
        for bad in [
            "1.15",
            "v",
            "",
            "1.15.10+abc",
            "=1.15.10",
            "vv1.15.10",
            "1.15.x",
            "01.15.10",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
        assert!(Version::parse("1.20.0-rc.0").unwrap() < Version::parse("1.20.0").unwrap());
    }

    #[test]
    fn minors() {
        assert_eq!(Minor::parse("1.15"), Some(Minor::new(1, 15)));
        assert_eq!(Minor::parse("v1.5"), Some(Minor::new(1, 5)));
        for bad in ["1", "1.", ".5", "1.05", "1.5.0", "a.b"] {
            assert!(Minor::parse(bad).is_none(), "{bad}");
        }
    }
}
