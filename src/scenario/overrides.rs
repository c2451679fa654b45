//! Settings that can be given twice: `mesh.istioProfile` and `--set profile=`, `mesh.jwtPolicy`
//! and `--set values.global.jwtPolicy=`. Equal levels must agree; otherwise the higher wins.

use indexmap::IndexMap;

use super::error::{Problem, ScenarioError};
use super::layer::{Origin, Scalar, Sourced};
use super::set;

/// How strongly a value's origin binds: two settings of one thing from the same level that
/// disagree are an error; otherwise the higher level wins.
fn rank(origin: &Origin) -> u8 {
    match origin {
        Origin::Default => 0,
        Origin::File(_) | Origin::Matrix(_) => 1,
        Origin::Env(_) => 2,
        Origin::Flag(_) => 3,
    }
}

pub type SetParts = (
    IndexMap<String, String>,
    Option<Sourced<String>>,
    Option<Sourced<String>>,
);

/// Splits `mesh.set` into plain overrides and the two keys that have their own fields.
pub fn collect_set(
    err: &mut ScenarioError,
    entries: &IndexMap<String, Sourced<Scalar>>,
) -> SetParts {
    let mut out = IndexMap::new();
    let (mut profile, mut jwt) = (None, None);
    for (key, v) in entries {
        if let Err(why) = set::check_path(key) {
            err.push(
                Problem::new(
                    format!("mesh.set.{key}"),
                    format!("{why}; accepted: {}", set::SET_ACCEPTED),
                )
                .from_origin(&v.origin),
            );
            continue;
        }
        let value = match &v.value {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            _ => {
                err.push(Problem::bad_value(
                    &format!("mesh.set.{key}"),
                    v,
                    "a value istioctl can take",
                    "a string (quote numbers like \"1.10\")",
                ));
                continue;
            }
        };
        match key.as_str() {
            "profile" => profile = Some(Sourced::new(value, v.origin.clone())),
            "values.global.jwtPolicy" => jwt = Some(Sourced::new(value, v.origin.clone())),
            _ => {
                out.insert(key.clone(), value);
            }
        }
    }
    (out, profile, jwt)
}

/// A field that can also be given through `--set`: equal levels must agree, else the higher
/// level wins.
pub fn reconcile(
    err: &mut ScenarioError,
    field: &str,
    set_key: &str,
    field_src: Option<&Sourced<Scalar>>,
    field_value: Option<String>,
    via_set: Option<Sourced<String>>,
) -> Option<String> {
    let Some(set_v) = via_set else {
        return field_value;
    };
    let (Some(fv), Some(fsrc)) = (field_value, field_src) else {
        return Some(set_v.value);
    };
    if fv == set_v.value {
        return Some(fv);
    }
    match rank(&fsrc.origin).cmp(&rank(&set_v.origin)) {
        std::cmp::Ordering::Greater => Some(fv),
        std::cmp::Ordering::Less => Some(set_v.value),
        std::cmp::Ordering::Equal => {
            err.push(Problem::new(
                field,
                format!("`{fv}` (from {}) disagrees with `--set {set_key}={}` (from {}); accepted: one value, given once", fsrc.origin, set_v.value, set_v.origin),
            ));
            Some(fv)
        }
    }
}
