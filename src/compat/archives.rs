//! Where each tool's release lives upstream, per version, OS and arch: data, not `if` chains.
//!
//! Sources:
//! - minikube: GitHub releases `kubernetes/minikube`, assets `minikube-<os>-<arch>` and
//!   `minikube-<os>-<arch>.sha256` (bare hex digest) under `releases/download/<tag>/`.
//! - kubectl: `https://dl.k8s.io/release/<v>/bin/<os>/<arch>/kubectl` and `kubectl.sha256`
//!   (bare hex), as documented on kubernetes.io "Install kubectl on Linux". Releases before
//!   v1.16.0 have no `.sha256` (404), only `.sha512` (from v1.12.0) and `.sha1`
//!   (flavio/kuberlr#80, kubernetes/kubernetes#68555).
//! - istio: release-builder `pkg/build/archive.go` per branch and `release/downloadIstioCandidate.sh`
//!   (../shared/research/istio.md §5, ../shared/data/compat.yaml `istio_release_archive`):
//!   the archive name changed at 1.6 (arch suffix on Linux), 1.10 (`osx-arm64`) and 1.19
//!   (`osx-<arch>` for every arch). Each archive has `<name>.sha256` ("<hex> <name>\n"), the top
//!   folder is `istio-<V>/`, istioctl is `bin/istioctl`; profiles moved from
//!   `install/kubernetes/operator/profiles` (1.5) to `manifests/profiles` (1.6+).

use std::fmt;

use semver::Version;

/// A tool meshup can fetch and cache.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Minikube,
    Istioctl,
    Kubectl,
}

impl Tool {
    pub const ALL: [Tool; 3] = [Tool::Minikube, Tool::Istioctl, Tool::Kubectl];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Minikube => "minikube",
            Tool::Istioctl => "istioctl",
            Tool::Kubectl => "kubectl",
        }
    }

    /// The environment variable that replaces the upstream base URL (mirrors, air-gapped sites, tests).
    pub fn mirror_env(self) -> &'static str {
        match self {
            Tool::Minikube => "MESHUP_MINIKUBE_MIRROR",
            Tool::Istioctl => "MESHUP_ISTIO_MIRROR",
            Tool::Kubectl => "MESHUP_KUBECTL_MIRROR",
        }
    }

    pub fn upstream_base(self) -> &'static str {
        match self {
            Tool::Minikube => "https://github.com/kubernetes/minikube/releases/download",
            Tool::Istioctl => "https://github.com/istio/istio/releases/download",
            Tool::Kubectl => "https://dl.k8s.io/release",
        }
    }

    /// How versions are spelled upstream: minikube and Kubernetes tags carry a `v`, Istio's do not.
    pub fn version_tag(self, v: &Version) -> String {
        match self {
            Tool::Istioctl => v.to_string(),
            Tool::Minikube | Tool::Kubectl => format!("v{v}"),
        }
    }

    pub fn parse(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    Darwin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Amd64,
    Arm64,
}

impl Arch {
    fn as_str(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub os: Os,
    pub arch: Arch,
}

impl Platform {
    /// The platform meshup was built for; `None` where no tool publishes binaries meshup runs.
    pub fn current() -> Option<Platform> {
        let os = match std::env::consts::OS {
            "linux" => Os::Linux,
            "macos" => Os::Darwin,
            _ => return None,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => Arch::Amd64,
            "aarch64" => Arch::Arm64,
            _ => return None,
        };
        Some(Platform { os, arch })
    }
}

impl fmt::Display for Platform {
    /// Go's spelling (`linux-amd64`, `darwin-arm64`), as minikube and kubectl name their assets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = match self.os {
            Os::Linux => "linux",
            Os::Darwin => "darwin",
        };
        write!(f, "{os}-{}", self.arch.as_str())
    }
}

/// What a release asset is and what meshup takes out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The asset is the executable itself.
    Binary,
    /// A `.tar.gz` holding the executable and a folder meshup keeps next to it.
    TarGz {
        /// Path of the executable inside the archive, e.g. `istio-1.5.0/bin/istioctl`.
        binary: String,
        /// Folder copied to `<cache>/profiles/`, e.g. `istio-1.6.0/manifests/profiles`.
        profiles: String,
    },
}

/// One downloadable release asset, relative to a base URL with the upstream layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub tool: Tool,
    /// The upstream tag (`v1.24.0`, `1.5.0`).
    pub version: String,
    /// Path below the base URL, e.g. `v1.24.0/minikube-linux-amd64`.
    pub path: String,
    /// `path`'s last segment: the name the checksum file may mention.
    pub file_name: String,
    pub payload: Payload,
    /// Which published checksum file sits next to it.
    pub checksum: Checksum,
}

/// The digest a release publishes next to an artifact (meshup always records sha256 itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Sha256,
    Sha512,
}

impl Checksum {
    pub fn extension(self) -> &'static str {
        match self {
            Checksum::Sha256 => "sha256",
            Checksum::Sha512 => "sha512",
        }
    }

    /// Hex digits in a digest.
    pub fn hex_len(self) -> usize {
        match self {
            Checksum::Sha256 => 64,
            Checksum::Sha512 => 128,
        }
    }
}

impl Artifact {
    pub fn url(&self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.path)
    }

    pub fn checksum_url(&self, base: &str) -> String {
        format!("{}.{}", self.url(base), self.checksum.extension())
    }
}

/// Istio's archive suffix eras (minors inclusive; `to: None` means "and later").
struct IstioEra {
    from: (u64, u64),
    to: Option<(u64, u64)>,
    linux: &'static str,
    darwin_amd64: &'static str,
    darwin_arm64: Option<&'static str>,
    profiles: &'static str,
}

/// `{arch}` is replaced by amd64/arm64. A `None` darwin_arm64 means no native build: the
/// amd64 archive is used (Rosetta), as downloadIstio does.
const ISTIO_ERAS: &[IstioEra] = &[
    IstioEra {
        from: (1, 4),
        to: Some((1, 5)),
        linux: "linux",
        darwin_amd64: "osx",
        darwin_arm64: None,
        profiles: "install/kubernetes/operator/profiles",
    },
    IstioEra {
        from: (1, 6),
        to: Some((1, 9)),
        linux: "linux-{arch}",
        darwin_amd64: "osx",
        darwin_arm64: None,
        profiles: "manifests/profiles",
    },
    IstioEra {
        from: (1, 10),
        to: Some((1, 18)),
        linux: "linux-{arch}",
        darwin_amd64: "osx",
        darwin_arm64: Some("osx-arm64"),
        profiles: "manifests/profiles",
    },
    IstioEra {
        from: (1, 19),
        to: None,
        linux: "linux-{arch}",
        darwin_amd64: "osx-amd64",
        darwin_arm64: Some("osx-arm64"),
        profiles: "manifests/profiles",
    },
];

/// The release asset for `tool` at `version` on `platform`; `None` for versions meshup has no
/// layout for (Istio before 1.4, or 1.4/1.5 on Linux arm64, which had no such archive).
pub fn artifact(tool: Tool, version: &Version, platform: Platform) -> Option<Artifact> {
    let tag = tool.version_tag(version);
    let (file_name, path, payload) = match tool {
        Tool::Minikube => {
            let name = format!("minikube-{platform}");
            (name.clone(), format!("{tag}/{name}"), Payload::Binary)
        }
        Tool::Kubectl => {
            let (os, arch) = platform
                .to_string()
                .split_once('-')
                .map(|(o, a)| (o.to_owned(), a.to_owned()))?;
            (
                "kubectl".to_owned(),
                format!("{tag}/bin/{os}/{arch}/kubectl"),
                Payload::Binary,
            )
        }
        Tool::Istioctl => {
            let minor = (version.major, version.minor);
            let era = ISTIO_ERAS
                .iter()
                .find(|e| e.from <= minor && e.to.is_none_or(|to| minor <= to))?;
            let suffix = match (platform.os, platform.arch) {
                (Os::Linux, Arch::Arm64) if !era.linux.contains("{arch}") => return None,
                (Os::Linux, arch) => era.linux.replace("{arch}", arch.as_str()),
                (Os::Darwin, Arch::Arm64) => {
                    era.darwin_arm64.unwrap_or(era.darwin_amd64).to_owned()
                }
                (Os::Darwin, Arch::Amd64) => era.darwin_amd64.to_owned(),
            };
            let name = format!("istio-{tag}-{suffix}.tar.gz");
            let top = format!("istio-{tag}");
            let payload = Payload::TarGz {
                binary: format!("{top}/bin/istioctl"),
                profiles: format!("{top}/{}", era.profiles),
            };
            (name.clone(), format!("{tag}/{name}"), payload)
        }
    };
    let checksum = match tool {
        Tool::Kubectl if *version < Version::new(1, 16, 0) => Checksum::Sha512,
        _ => Checksum::Sha256,
    };
    Some(Artifact {
        tool,
        version: tag,
        path,
        file_name,
        payload,
        checksum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: Platform = Platform {
        os: Os::Linux,
        arch: Arch::Amd64,
    };
    const LINUX_ARM: Platform = Platform {
        os: Os::Linux,
        arch: Arch::Arm64,
    };
    const MAC: Platform = Platform {
        os: Os::Darwin,
        arch: Arch::Amd64,
    };
    const MAC_ARM: Platform = Platform {
        os: Os::Darwin,
        arch: Arch::Arm64,
    };

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn istio(version: &str, p: Platform) -> Option<String> {
        artifact(Tool::Istioctl, &v(version), p).map(|a| a.path)
    }

    #[test]
    fn istio_archive_names_follow_the_eras() {
        let cases = [
            ("1.4.3", LINUX, "1.4.3/istio-1.4.3-linux.tar.gz"),
            ("1.5.0", LINUX, "1.5.0/istio-1.5.0-linux.tar.gz"),
            ("1.5.0", MAC, "1.5.0/istio-1.5.0-osx.tar.gz"),
            ("1.5.0", MAC_ARM, "1.5.0/istio-1.5.0-osx.tar.gz"),
            ("1.6.0", LINUX, "1.6.0/istio-1.6.0-linux-amd64.tar.gz"),
            (
                "1.6.14",
                LINUX_ARM,
                "1.6.14/istio-1.6.14-linux-arm64.tar.gz",
            ),
            ("1.9.9", MAC_ARM, "1.9.9/istio-1.9.9-osx.tar.gz"),
            ("1.10.0", MAC_ARM, "1.10.0/istio-1.10.0-osx-arm64.tar.gz"),
            ("1.18.7", MAC, "1.18.7/istio-1.18.7-osx.tar.gz"),
            ("1.18.7", LINUX, "1.18.7/istio-1.18.7-linux-amd64.tar.gz"),
            ("1.19.0", MAC, "1.19.0/istio-1.19.0-osx-amd64.tar.gz"),
            ("1.19.0", LINUX, "1.19.0/istio-1.19.0-linux-amd64.tar.gz"),
            ("1.30.1", MAC_ARM, "1.30.1/istio-1.30.1-osx-arm64.tar.gz"),
        ];
        for (version, platform, want) in cases {
            assert_eq!(
                istio(version, platform).as_deref(),
                Some(want),
                "{version} {platform}"
            );
        }
        assert_eq!(istio("1.3.8", LINUX), None);
        assert_eq!(istio("1.5.0", LINUX_ARM), None);
    }

    #[test]
    fn istio_profiles_moved_at_1_6() {
        let payload = |ver: &str| artifact(Tool::Istioctl, &v(ver), LINUX).unwrap().payload;
        assert_eq!(
            payload("1.5.0"),
            Payload::TarGz {
                binary: "istio-1.5.0/bin/istioctl".into(),
                profiles: "istio-1.5.0/install/kubernetes/operator/profiles".into()
            }
        );
        assert_eq!(
            payload("1.6.0"),
            Payload::TarGz {
                binary: "istio-1.6.0/bin/istioctl".into(),
                profiles: "istio-1.6.0/manifests/profiles".into()
            }
        );
    }

    #[test]
    fn minikube_and_kubectl_paths() {
        let mk = artifact(Tool::Minikube, &v("1.24.0"), LINUX).unwrap();
        assert_eq!(mk.path, "v1.24.0/minikube-linux-amd64");
        assert_eq!(
            mk.checksum_url("https://github.com/kubernetes/minikube/releases/download/"),
            "https://github.com/kubernetes/minikube/releases/download/v1.24.0/minikube-linux-amd64.sha256"
        );
        let mk = artifact(Tool::Minikube, &v("1.38.1"), MAC_ARM).unwrap();
        assert_eq!(mk.file_name, "minikube-darwin-arm64");
        let k = artifact(Tool::Kubectl, &v("1.15.12"), LINUX_ARM).unwrap();
        assert_eq!(k.path, "v1.15.12/bin/linux/arm64/kubectl");
        assert_eq!(
            k.checksum_url("b"),
            "b/v1.15.12/bin/linux/arm64/kubectl.sha512"
        );
        let k = artifact(Tool::Kubectl, &v("1.16.0"), LINUX).unwrap();
        assert_eq!(
            k.checksum_url("b"),
            "b/v1.16.0/bin/linux/amd64/kubectl.sha256"
        );
        assert_eq!(k.payload, Payload::Binary);
    }
}
