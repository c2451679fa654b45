//! Scenario and Matrix documents as written in YAML, turned into a `Layer`.
//! Unknown fields are rejected (with file:line:column) so a typo never silently does nothing.

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::Value;

use super::error::{Problem, ScenarioError, path_origin};
use super::layer::{Layer, Origin, Scalar, Sourced};

pub const API_VERSION: &str = "meshup/v1";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawScenario {
    pub api_version: Option<Value>,
    pub kind: Option<Value>,
    pub metadata: Option<RawMetadata>,
    pub cluster: Option<RawCluster>,
    pub tunnel: Option<Value>,
    pub mesh: Option<RawMesh>,
    pub verify: Option<RawVerify>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawMetadata {
    pub name: Option<Value>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawCluster {
    pub provider: Option<Value>,
    pub profile: Option<Value>,
    pub driver: Option<Value>,
    pub kubernetes: Option<Value>,
    pub cpus: Option<Value>,
    pub memory: Option<Value>,
    pub extra_args: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawMesh {
    pub istio: Option<Value>,
    #[serde(alias = "profile")]
    pub istio_profile: Option<Value>,
    pub set: Option<IndexMap<String, Value>>,
    pub jwt_policy: Option<Value>,
    pub method: Option<Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawVerify {
    pub load_balancers: Option<Vec<String>>,
    pub smoke: Option<RawSmoke>,
    pub timeouts: Option<RawTimeouts>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawSmoke {
    pub namespace: Option<Value>,
    pub image: Option<Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTimeouts {
    pub check: Option<Value>,
    pub total: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawMatrix {
    pub api_version: Option<Value>,
    pub kind: Option<Value>,
    pub metadata: Option<RawMetadata>,
    #[serde(default)]
    pub base: RawScenario,
    pub axes: IndexMap<String, Vec<Value>>,
    #[serde(default)]
    pub exclude: Vec<IndexMap<String, Value>>,
}

/// A parsed document: either kind.
pub enum Document {
    Scenario(Box<Layer>),
    Matrix(Box<RawMatrix>),
}

/// Only the `kind`, to pick the document type; anything else is checked by the full parse.
#[derive(Deserialize)]
struct Kind {
    kind: Option<Value>,
}

pub fn load(path: &Path) -> Result<Document, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| super::error::unreadable(path, &e))?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Document, ScenarioError> {
    if text.trim().is_empty() {
        return Err(ScenarioError::one(
            Problem::new("(document)", "the file is empty; a scenario needs at least `apiVersion: meshup/v1` and `kind: Scenario`")
                .from_origin(&path_origin(path)),
        ));
    }
    let kind: Kind = serde_yaml::from_str(text).map_err(|e| ScenarioError::yaml(path, &e))?;
    match kind.kind.as_ref().and_then(Value::as_str) {
        Some("Matrix") => {
            let raw: RawMatrix =
                serde_yaml::from_str(text).map_err(|e| ScenarioError::yaml(path, &e))?;
            check_header(path, raw.api_version.as_ref(), raw.kind.as_ref(), "Matrix")?;
            Ok(Document::Matrix(Box::new(raw)))
        }
        _ => {
            let raw: RawScenario =
                serde_yaml::from_str(text).map_err(|e| ScenarioError::yaml(path, &e))?;
            check_header(
                path,
                raw.api_version.as_ref(),
                raw.kind.as_ref(),
                "Scenario",
            )?;
            Ok(Document::Scenario(Box::new(to_layer(
                raw,
                &path_origin(path),
            ))))
        }
    }
}

fn check_header(
    path: &Path,
    api_version: Option<&Value>,
    kind: Option<&Value>,
    want_kind: &str,
) -> Result<(), ScenarioError> {
    let origin = path_origin(path);
    let mut err = ScenarioError::default();
    match api_version.and_then(Value::as_str) {
        Some(API_VERSION) => {}
        other => err.push(
            Problem::new(
                "apiVersion",
                format!(
                    "`{}` is not a meshup document version; accepted: {API_VERSION}",
                    other.unwrap_or("<missing>")
                ),
            )
            .from_origin(&origin),
        ),
    }
    match kind.and_then(Value::as_str) {
        Some(k) if k == want_kind => {}
        other => err.push(
            Problem::new(
                "kind",
                format!(
                    "`{}` is not a document kind meshup reads; accepted: Scenario, Matrix",
                    other.unwrap_or("<missing>")
                ),
            )
            .from_origin(&origin),
        ),
    }
    if err.is_empty() { Ok(()) } else { Err(err) }
}

pub fn to_layer(raw: RawScenario, origin: &Origin) -> Layer {
    let s = |v: Option<Value>| v.map(|v| Sourced::new(Scalar::from_yaml(&v), origin.clone()));
    let list = |v: Option<Vec<String>>| v.map(|v| Sourced::new(v, origin.clone()));
    let metadata = raw.metadata.unwrap_or_default();
    let cluster = raw.cluster.unwrap_or_default();
    let mesh = raw.mesh.unwrap_or_default();
    let verify = raw.verify.unwrap_or_default();
    let smoke = verify.smoke.unwrap_or_default();
    let timeouts = verify.timeouts.unwrap_or_default();
    Layer {
        name: s(metadata.name),
        provider: s(cluster.provider),
        cluster_profile: s(cluster.profile),
        driver: s(cluster.driver),
        kubernetes: s(cluster.kubernetes),
        cpus: s(cluster.cpus),
        memory: s(cluster.memory),
        extra_args: list(cluster.extra_args),
        tunnel: s(raw.tunnel),
        istio: s(mesh.istio),
        istio_profile: s(mesh.istio_profile),
        set: mesh
            .set
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Sourced::new(Scalar::from_yaml(&v), origin.clone())))
            .collect(),
        jwt_policy: s(mesh.jwt_policy),
        method: s(mesh.method),
        load_balancers: list(verify.load_balancers),
        smoke_namespace: s(smoke.namespace),
        smoke_image: s(smoke.image),
        check_timeout: s(timeouts.check),
        total_timeout: s(timeouts.total),
    }
}
