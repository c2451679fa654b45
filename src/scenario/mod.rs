//! The scenario a run is described by: model, defaults, layering (built-in default < file <
//! environment < flags), validation, matrix expansion, and the parsers for quantities,
//! versions and `--set`. Pure apart from reading the scenario file.

pub mod error;
pub mod file;
pub mod layer;
pub mod locate;
pub mod matrix;
pub mod model;
pub mod name;
pub mod overrides;
pub mod quantity;
pub mod read;
pub mod set;
pub mod text;
pub mod validate;
pub mod versions;

use std::path::Path;

pub use error::{Problem, ScenarioError};
pub use layer::{Layer, Origin, Scalar, Sourced};
pub use model::*;

/// The built-in default, as a layer so that every other layer merges over it the same way.
pub fn default_layer() -> Layer {
    let d = |s: &str| Some(Sourced::new(Scalar::Str(s.to_string()), Origin::Default));
    Layer {
        provider: d("minikube"),
        cluster_profile: d(name::DEFAULT_PROFILE),
        kubernetes: d("stable"),
        cpus: d("2"),
        memory: d("4096"),
        tunnel: d("auto"),
        istio: d("auto"),
        istio_profile: d("default"),
        jwt_policy: d("auto"),
        method: d("istioctl"),
        ..Layer::default()
    }
}

/// Loads a Scenario file into a layer, with the file's own problems (unknown fields, wrong
/// shapes) to report together with the values' problems; a Matrix file is an error here.
pub fn load_scenario_file(
    path: &Path,
) -> Result<(Layer, ScenarioError, file::Locator), ScenarioError> {
    let loaded = file::load(path)?;
    match loaded.document {
        file::Document::Scenario(layer) => Ok((*layer, loaded.problems, loaded.locator)),
        file::Document::Matrix(_) => Err(ScenarioError::one(
            Problem::new(
                "kind",
                "`Matrix` is a matrix of scenarios; accepted here: kind: Scenario (run matrices with `meshup matrix FILE --dry-run`)",
            )
            .from_origin(&error::path_origin(path)),
        )),
    }
}

/// default < file < env < flags, then validation.
pub fn resolve(layers: &[Layer]) -> Result<Scenario, ScenarioError> {
    let merged = layers
        .iter()
        .fold(default_layer(), |acc, layer| acc.merge(layer));
    validate::validate(&merged)
}
