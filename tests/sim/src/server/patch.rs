//! PATCH bodies: JSON merge patch (RFC 7386), strategic merge (enough of it: lists of objects
//! merge by their `name`, `type` (conditions) or port key; `$patch: delete` and `$retainKeys` are
//! honoured for maps), JSON patch (RFC 6902, via the json-patch crate).

use serde_json::{Map, Value};

use super::status::{ApiError, ApiResult};

pub enum PatchType {
    Merge,
    Strategic,
    Json,
    /// Server-side apply, approximated as a strategic merge of the applied configuration.
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        match ct.split(';').next().unwrap_or_default().trim() {
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/json-patch+json" => Some(PatchType::Json),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

pub fn apply(target: &Value, kind: &PatchType, body: &[u8]) -> ApiResult<Value> {
    match kind {
        PatchType::Json => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            let mut doc = target.clone();
            json_patch::patch(&mut doc, &patch).map_err(|e| ApiError::invalid(e.to_string()))?;
            Ok(doc)
        }
        PatchType::Merge => {
            let patch: Value = parse(body)?;
            let mut doc = target.clone();
            json_patch::merge(&mut doc, &patch);
            Ok(doc)
        }
        PatchType::Strategic | PatchType::Apply => {
            let patch: Value = if matches!(kind, PatchType::Apply) {
                serde_yaml::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?
            } else {
                parse(body)?
            };
            Ok(strategic(target, &patch))
        }
    }
}

fn parse(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid patch: {e}")))
}

/// The key a list of objects merges on, if it has one.
fn merge_key(items: &[Value]) -> Option<&'static str> {
    ["name", "type", "containerPort", "port", "mountPath", "ip"]
        .into_iter()
        .find(|k| !items.is_empty() && items.iter().all(|i| i.get(*k).is_some()))
}

pub fn strategic(target: &Value, patch: &Value) -> Value {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut p = p.clone();
                p.remove("$patch");
                return Value::Object(p);
            }
            let mut out: Map<String, Value> = t.clone();
            if let Some(keep) = p.get("$retainKeys").and_then(Value::as_array) {
                out.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)));
            }
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match out.get(k) {
                        Some(cur) => strategic(cur, v),
                        None => strip_directives(v),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (Value::Array(t), Value::Array(p)) => match merge_key(p) {
            Some(key) if t.iter().all(|i| i.get(key).is_some()) => {
                let mut out = t.clone();
                for item in p {
                    let pos = out.iter().position(|o| o[key] == item[key]);
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            out.remove(i);
                        }
                        (Some(i), false) => out[i] = strategic(&out[i], item),
                        (None, false) => out.push(strip_directives(item)),
                        (None, true) => {}
                    }
                }
                Value::Array(out)
            }
            _ => strip_directives(patch),
        },
        _ => strip_directives(patch),
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name_and_conditions_by_type() {
        let pod = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
                         "status": {"conditions": [{"type": "Ready", "status": "False"}]}});
        let patch = json!({"spec": {"containers": [{"name": "b", "image": "z"}]},
                           "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let out = strategic(&pod, &patch);
        assert_eq!(out["spec"]["containers"][0]["image"], "x");
        assert_eq!(out["spec"]["containers"][1]["image"], "z");
        assert_eq!(out["status"]["conditions"].as_array().unwrap().len(), 1);
        assert_eq!(out["status"]["conditions"][0]["status"], "True");
    }

    #[test]
    fn null_deletes_and_json_patch_works() {
        let obj = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let out = strategic(
            &obj,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"b": "2", "c": "3"}));
        let jp = br#"[{"op":"replace","path":"/metadata/labels/b","value":"9"}]"#;
        let out = apply(&obj, &PatchType::Json, jp).unwrap();
        assert_eq!(out["metadata"]["labels"]["b"], "9");
    }
}
