//! `kind: Matrix`: a base scenario and axes over field paths, expanded deterministically (axis
//! order as written, the last axis varying fastest) into scenarios with distinct cluster
//! profile names derived from their values, so the same file always gives the same names.

use std::collections::HashSet;
use std::path::Path;

use serde_yaml::Value;

use super::error::{Problem, ScenarioError};
use super::file::{RawMatrix, to_layer};
use super::layer::{AXIS_PATHS, Layer, Origin, Scalar, Sourced};
use super::{Scenario, name, resolve};

#[derive(Debug, Clone)]
pub struct Entry {
    /// (axis path, value as written), in axis order.
    pub values: Vec<(String, String)>,
    pub scenario: Scenario,
}

pub fn expand(raw: RawMatrix, path: &Path) -> Result<Vec<Entry>, ScenarioError> {
    let origin = Origin::Matrix(path.to_path_buf());
    let mut err = ScenarioError::default();
    let base = to_layer(raw.base, &origin);
    let prefix = match base.cluster_profile.as_ref().map(|p| &p.value) {
        Some(Scalar::Str(s)) => s.clone(),
        _ => name::DEFAULT_PROFILE.to_string(),
    };

    if raw.axes.is_empty() {
        err.push(Problem::new("axes", "no axes; accepted: a map of field path to a list of values, e.g. cluster.kubernetes: [v1.15.10, v1.16.15]").from_origin(&origin));
    }
    let mut axes: Vec<(String, Vec<Scalar>)> = Vec::new();
    for (axis, values) in &raw.axes {
        if !AXIS_PATHS.contains(&axis.as_str()) {
            err.push(
                Problem::new(
                    format!("axes.{axis}"),
                    format!(
                        "`{axis}` is not a field a matrix can vary; accepted: {}",
                        AXIS_PATHS.join(", ")
                    ),
                )
                .from_origin(&origin),
            );
            continue;
        }
        if values.is_empty() {
            err.push(
                Problem::new(
                    format!("axes.{axis}"),
                    "has no values; accepted: a non-empty list",
                )
                .from_origin(&origin),
            );
            continue;
        }
        axes.push((axis.clone(), values.iter().map(Scalar::from_yaml).collect()));
    }
    for (i, ex) in raw.exclude.iter().enumerate() {
        for key in ex.keys() {
            if !raw.axes.contains_key(key) {
                err.push(
                    Problem::new(
                        format!("exclude[{i}].{key}"),
                        format!(
                            "`{key}` is not one of this matrix's axes; accepted: {}",
                            raw.axes.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )
                    .from_origin(&origin),
                );
            }
        }
    }
    if !err.is_empty() {
        return Err(err);
    }

    let mut entries = Vec::new();
    let mut seen_names = HashSet::new();
    for combo in product(&axes) {
        let values: Vec<(String, String)> = combo
            .iter()
            .map(|(a, v)| (a.to_string(), v.display()))
            .collect();
        if raw.exclude.iter().any(|ex| excluded(ex, &values)) {
            continue;
        }
        let mut layer = Layer::default();
        for (axis, value) in &combo {
            layer.set_path(axis, Sourced::new((*value).clone(), origin.clone()));
        }
        let profile = profile_name(&prefix, &values, &mut seen_names);
        layer.cluster_profile = Some(Sourced::new(Scalar::Str(profile.clone()), origin.clone()));
        match resolve(&[base.clone(), layer]) {
            Ok(scenario) => entries.push(Entry { values, scenario }),
            Err(e) => {
                for mut p in e.problems {
                    p.message = format!("{} (in {profile})", p.message);
                    err.push(p);
                }
            }
        }
    }
    if !err.is_empty() {
        return Err(err);
    }
    Ok(entries)
}

fn product(axes: &[(String, Vec<Scalar>)]) -> Vec<Vec<(&str, &Scalar)>> {
    let mut out: Vec<Vec<(&str, &Scalar)>> = vec![Vec::new()];
    for (axis, values) in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push((axis.as_str(), v));
                    next
                })
            })
            .collect();
    }
    out
}

fn excluded(ex: &indexmap::IndexMap<String, Value>, values: &[(String, String)]) -> bool {
    !ex.is_empty()
        && ex.iter().all(|(axis, v)| {
            let want = Scalar::from_yaml(v).display();
            values.iter().any(|(a, got)| a == axis && *got == want)
        })
}

/// `<prefix>-<slug of the values>`, e.g. `meshup-v1-15-10-4-8g`; a hash suffix keeps names
/// distinct and within 63 characters when slugs collide or run long.
fn profile_name(prefix: &str, values: &[(String, String)], seen: &mut HashSet<String>) -> String {
    let joined: Vec<String> = values.iter().map(|(_, v)| slug(v)).collect();
    let mut candidate = format!("{prefix}-{}", joined.join("-"));
    if candidate.len() > 63 || seen.contains(&candidate) || name::check_profile(&candidate).is_err()
    {
        let canonical: String = values.iter().map(|(a, v)| format!("{a}={v};")).collect();
        let hash = format!("{:08x}", fnv1a(&canonical) as u32);
        let keep = 63 - hash.len() - 1;
        let mut base = candidate.clone();
        base.truncate(keep);
        candidate = format!("{}-{hash}", base.trim_end_matches('-'));
    }
    seen.insert(candidate.clone());
    candidate
}

fn slug(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_slugs_and_collisions_get_a_hash() {
        let mut seen = HashSet::new();
        let a = profile_name(
            "meshup",
            &[("cluster.memory".into(), "8g".into())],
            &mut seen,
        );
        let b = profile_name(
            "meshup",
            &[("cluster.memory".into(), "8G".into())],
            &mut seen,
        );
        assert_eq!(a, "meshup-8g");
        assert_ne!(a, b);
        assert!(name::check_profile(&b).is_ok(), "{b}");
        let long = profile_name("meshup", &[("x".into(), "a".repeat(80))], &mut seen);
        assert!(
            long.len() <= 63 && name::check_profile(&long).is_ok(),
            "{long}"
        );
    }
}
