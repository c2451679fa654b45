//! What was applied, kept in the profile's state dir so a re-run, a diff or an uninstall knows
//! exactly: `mesh/record.json` (version, profile, overrides, JWT policy, method, the exact
//! istioctl command) and `mesh/manifest.yaml` (the rendered manifest, policy and overrides
//! resolved). Its own files, not fields of the shared stage record.

use std::path::PathBuf;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::command::Request;
use crate::compat::Version;
use crate::state::{ProfileState, write_atomically};

pub const SCHEMA: &str = "meshup.mesh/v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshRecord {
    pub schema: String,
    pub istio: String,
    pub profile: String,
    pub set: Vec<(String, String)>,
    pub jwt_policy: Option<String>,
    /// `istioctl` or `manifest`.
    pub method: String,
    /// The exact command that installed it (program first).
    pub command: Vec<String>,
    pub installed_at: String,
}

impl MeshRecord {
    pub fn new(r: &Request, method: &str, command: Vec<String>) -> MeshRecord {
        MeshRecord {
            schema: SCHEMA.into(),
            istio: r.istio.to_string(),
            profile: r.profile.clone(),
            set: r.set.clone(),
            jwt_policy: r.jwt_policy.clone(),
            method: method.into(),
            command,
            installed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    pub fn request(&self) -> Option<Request> {
        Some(Request {
            istio: Version::parse(&self.istio)?,
            profile: self.profile.clone(),
            set: self.set.clone(),
            jwt_policy: self.jwt_policy.clone(),
        })
    }

    /// Same Istio, profile, overrides and policy: nothing to install.
    pub fn matches(&self, r: &Request, method: &str) -> bool {
        self.request().as_ref() == Some(r) && self.method == method
    }
}

pub fn dir(state: &ProfileState) -> PathBuf {
    state.file("mesh")
}

pub fn manifest_path(state: &ProfileState) -> PathBuf {
    dir(state).join("manifest.yaml")
}

fn record_path(state: &ProfileState) -> PathBuf {
    dir(state).join("record.json")
}

/// The record and its manifest, if a mesh was installed by meshup on this profile.
pub fn load(state: &ProfileState) -> anyhow::Result<Option<(MeshRecord, String)>> {
    let path = record_path(state);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let record: MeshRecord =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let manifest = std::fs::read_to_string(manifest_path(state)).unwrap_or_default();
    Ok(Some((record, manifest)))
}

pub fn save(state: &ProfileState, record: &MeshRecord, manifest: &str) -> anyhow::Result<()> {
    let d = dir(state);
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    write_atomically(&manifest_path(state), manifest.as_bytes())?;
    let mut json = serde_json::to_vec_pretty(record)?;
    json.push(b'\n');
    write_atomically(&record_path(state), &json)
}

/// Forget the mesh (after `down --mesh-only` removed it).
pub fn remove(state: &ProfileState) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir(state)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::version::v;

    #[test]
    fn round_trips_and_matches_the_same_request() {
        let dir = tempfile::tempdir().unwrap();
        let state = crate::state::StateRoot::at(dir.path()).profile("p");
        state.ensure().unwrap();
        let r = Request {
            istio: v("1.5.0"),
            profile: "default".into(),
            set: vec![(
                "values.global.proxy.accessLogFile".into(),
                "/dev/stdout".into(),
            )],
            jwt_policy: Some("first-party-jwt".into()),
        };
        assert!(load(&state).unwrap().is_none());
        let rec = MeshRecord::new(&r, "istioctl", vec!["istioctl".into(), "manifest".into()]);
        save(&state, &rec, "kind: ConfigMap\n").unwrap();
        let (back, manifest) = load(&state).unwrap().unwrap();
        assert_eq!(back, rec);
        assert_eq!(manifest, "kind: ConfigMap\n");
        assert!(back.matches(&r, "istioctl"));
        assert!(!back.matches(&r, "manifest"));
        let mut other = r.clone();
        other.set.clear();
        assert!(!back.matches(&other, "istioctl"));
        remove(&state).unwrap();
        assert!(load(&state).unwrap().is_none());
    }
}
