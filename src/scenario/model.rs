//! The validated scenario: typed values only, versions possibly still symbolic (`stable`)
//! until the plan resolves them against the minikube that will be used.

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use super::quantity::{Cpus, Memory, format_duration};
use crate::compat::{Minor, Version};

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: Option<String>,
    pub cluster: Cluster,
    pub tunnel: TunnelMode,
    pub mesh: Mesh,
    pub verify: Verify,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub provider: Provider,
    /// The minikube profile and kube context (`-p`); a DNS label, never `minikube`.
    pub profile: String,
    /// minikube's `--driver`; None lets minikube pick.
    pub driver: Option<String>,
    pub kubernetes: KubeSpec,
    pub cpus: Cpus,
    pub memory: Memory,
    pub extra_args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Minikube,
}

/// A Kubernetes version as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeSpec {
    Exact(Version),
    /// `1.15`: pinned to the newest patch meshup knows.
    Minor(Minor, Version),
    /// The resolved minikube's default.
    Stable,
    /// The resolved minikube's newest.
    Latest,
}

impl fmt::Display for KubeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KubeSpec::Exact(v) => f.write_str(&v.v()),
            KubeSpec::Minor(m, _) => write!(f, "{m}"),
            KubeSpec::Stable => f.write_str("stable"),
            KubeSpec::Latest => f.write_str("latest"),
        }
    }
}

/// An Istio version as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IstioSpec {
    /// The newest Istio meshup knows that supports the Kubernetes version.
    Auto,
    Exact(Version),
    /// `1.5`: the newest patch meshup offers.
    Minor(Minor, Version),
}

impl fmt::Display for IstioSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IstioSpec::Auto => f.write_str("auto"),
            IstioSpec::Exact(v) => write!(f, "{v}"),
            IstioSpec::Minor(m, _) => write!(f, "{m}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelMode {
    /// On when a LoadBalancer service is to be verified.
    Auto,
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JwtPolicy {
    /// Detected from the API server's discovery at install time.
    Auto,
    ThirdPartyJwt,
    FirstPartyJwt,
}

impl JwtPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtPolicy::Auto => "auto",
            JwtPolicy::ThirdPartyJwt => "third-party-jwt",
            JwtPolicy::FirstPartyJwt => "first-party-jwt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// `istioctl manifest apply` / `istioctl install`.
    Istioctl,
    /// `istioctl manifest generate`, saved, then `kubectl apply`.
    Manifest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub istio: IstioSpec,
    pub profile: String,
    /// Overrides passed to istioctl as `--set k=v`, in order, excluding `profile` and
    /// `values.global.jwtPolicy` (those have their own fields).
    pub set: IndexMap<String, String>,
    pub jwt_policy: JwtPolicy,
    pub method: Method,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verify {
    /// `namespace/name` of each LoadBalancer Service that must get an address.
    pub load_balancers: Vec<String>,
    pub smoke_namespace: String,
    pub smoke_image: String,
    pub check_timeout: Duration,
    pub total_timeout: Duration,
}

impl Verify {
    pub fn check_timeout_text(&self) -> String {
        format_duration(self.check_timeout)
    }
    pub fn total_timeout_text(&self) -> String {
        format_duration(self.total_timeout)
    }
}
