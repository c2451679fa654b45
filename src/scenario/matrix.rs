//! `kind: Matrix`: a base scenario and axes over field paths, expanded deterministically (axis
//! order as written, the last axis varying fastest) into scenarios with distinct cluster
//! profile names derived from their values, so the same file always gives the same names.

use std::collections::HashSet;
use std::path::Path;

use super::error::{Problem, ScenarioError};
use super::file::MatrixDoc;
use super::layer::{AXIS_PATHS, Layer, Origin, Scalar, Sourced};
use super::{Scenario, name, resolve};

#[derive(Debug, Clone)]
pub struct Entry {
    /// (axis path, value as written), in axis order.
    pub values: Vec<(String, String)>,
    pub scenario: Scenario,
}

/// The most scenarios one matrix may expand to (before excludes). A support grid is tens of
/// cells; each one is a cluster. The product is computed before anything is expanded, so a
/// small file with many axes cannot make meshup allocate millions of scenarios.
pub const MAX_CELLS: u64 = 256;

pub fn expand(raw: MatrixDoc, path: &Path) -> Result<Vec<Entry>, ScenarioError> {
    let origin = Origin::Matrix(path.to_path_buf());
    let mut err = ScenarioError::default();
    let base = retag(raw.base, &origin);
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
        axes.push((axis.clone(), values.clone()));
    }
    let cells = axes
        .iter()
        .try_fold(1u64, |n, (_, v)| n.checked_mul(v.len() as u64));
    if cells.is_none_or(|n| n > MAX_CELLS) {
        let sizes: Vec<String> = axes
            .iter()
            .map(|(a, v)| format!("{a} {}", v.len()))
            .collect();
        let total = cells.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string());
        err.push(
            Problem::new(
                "axes",
                format!(
                    "expand to {total} scenarios ({}); accepted: at most {MAX_CELLS} scenarios per matrix (split it into several files)",
                    sizes.join(" × ")
                ),
            )
            .from_origin(&origin),
        );
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
    // A bad base value fails every cell: one problem, naming the cells it is in.
    let mut cell_problems: indexmap::IndexMap<Problem, Vec<String>> = indexmap::IndexMap::new();
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
                for p in e.problems {
                    cell_problems.entry(p).or_default().push(profile.clone());
                }
            }
        }
    }
    for (mut p, cells) in cell_problems {
        let more = match cells.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        p.message = format!("{} (in {}{more})", p.message, cells[0]);
        err.push(p);
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

/// The base's values come from the matrix file: say so in messages.
fn retag(mut base: Layer, origin: &Origin) -> Layer {
    let fields = [
        &mut base.name,
        &mut base.provider,
        &mut base.cluster_profile,
        &mut base.driver,
        &mut base.kubernetes,
        &mut base.cpus,
        &mut base.memory,
        &mut base.tunnel,
        &mut base.istio,
        &mut base.istio_profile,
        &mut base.jwt_policy,
        &mut base.method,
        &mut base.smoke_namespace,
        &mut base.smoke_image,
        &mut base.check_timeout,
        &mut base.total_timeout,
    ];
    for f in fields.into_iter().flatten() {
        f.origin = origin.clone();
    }
    for l in [&mut base.extra_args, &mut base.load_balancers]
        .into_iter()
        .flatten()
    {
        l.origin = origin.clone();
    }
    for v in base.set.values_mut() {
        v.origin = origin.clone();
    }
    base
}

fn excluded(ex: &indexmap::IndexMap<String, Scalar>, values: &[(String, String)]) -> bool {
    !ex.is_empty()
        && ex.iter().all(|(axis, v)| {
            let want = v.display();
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
