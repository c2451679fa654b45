//! Version fields: `v1.15.10`, `1.15`, `stable`, `latest` for Kubernetes; `1.5.0`, `1.5`,
//! `auto` for Istio. Checked against what meshup knows (compat), so an unknown minor is bad
//! input (exit 2), not a surprise at install time.

use super::model::{IstioSpec, KubeSpec};
use crate::compat::{Minor, Version, istio, kubernetes};

pub const KUBERNETES_ACCEPTED: &str =
    "v1.15.10, 1.15.10, 1.15 (newest known patch), stable or latest";

pub fn parse_kubernetes(s: &str) -> Result<KubeSpec, String> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "stable" => return Ok(KubeSpec::Stable),
        "latest" | "newest" => return Ok(KubeSpec::Latest),
        _ => {}
    }
    let range = kubernetes::known_range_text();
    if let Some(minor) = Minor::parse(s) {
        return kubernetes::newest_patch(minor)
            .map(|v| KubeSpec::Minor(minor, v))
            .ok_or_else(|| format!("`{s}` is outside the Kubernetes releases meshup knows ({range}); accepted: {KUBERNETES_ACCEPTED}"));
    }
    match Version::parse(s) {
        Some(v) if kubernetes::is_known_minor(v.minor()) => Ok(KubeSpec::Exact(v)),
        Some(_) => Err(format!(
            "`{s}` is outside the Kubernetes releases meshup knows ({range}); accepted: {KUBERNETES_ACCEPTED}"
        )),
        None => Err(format!(
            "`{s}` is not a Kubernetes version; accepted: {KUBERNETES_ACCEPTED}"
        )),
    }
}

pub fn parse_istio(s: &str) -> Result<IstioSpec, String> {
    let range = istio::offered_range_text();
    let accepted = format!("an Istio release meshup offers ({range}) as 1.5.0 or 1.5, or auto");
    if let Some(minor) = Minor::parse(s) {
        return istio::newest_patch(minor)
            .map(|v| IstioSpec::Minor(minor, v))
            .ok_or_else(|| {
                format!("`{s}` is not an Istio minor meshup offers; accepted: {accepted}")
            });
    }
    let Some(v) = Version::parse(s.strip_prefix('v').unwrap_or(s)) else {
        return Err(format!(
            "`{s}` is not an Istio version; accepted: {accepted}"
        ));
    };
    if istio::is_offered(&v) {
        return Ok(IstioSpec::Exact(v));
    }
    let patches = istio::patches(v.minor());
    match (patches.first(), patches.last()) {
        (Some(first), Some(last)) => Err(format!(
            "`{s}` is not an Istio release meshup offers; {} patches: {first}–{last}",
            v.minor()
        )),
        _ => Err(format!(
            "`{s}` is not an Istio minor meshup offers; accepted: {accepted}"
        )),
    }
}
