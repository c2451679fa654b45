//! `meshup manifest diff`: the seed's `diff -u <(istioctl manifest generate ...) <(...)`, but
//! resource-aware. Documents are matched by kind, namespace and name and reported as added,
//! removed or changed; each changed resource gets a unified diff of its own lines only, with
//! embedded blobs (a ConfigMap's mesh config, the injector's values JSON) expanded first so that
//! `accessLogFile: ""` → `"/dev/stdout"` is one small hunk inside the ConfigMap that carries it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// `Kind namespace/name` (cluster-scoped: `Kind name`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    #[serde(flatten)]
    pub key: Key,
    /// Unified diff (`@@` hunks, `-`/`+`/` ` lines) of the resource's normalized YAML.
    pub diff: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    pub added: Vec<Key>,
    pub removed: Vec<Key>,
    pub changed: Vec<Changed>,
}

impl ManifestDiff {
    pub fn identical(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn key_of(o: &Value) -> Key {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Key {
        kind: s(&o["kind"]),
        namespace: s(&o["metadata"]["namespace"]),
        name: s(&o["metadata"]["name"]),
    }
}

/// The documents of a multi-document YAML stream, by key (empty documents skipped).
pub fn documents(text: &str) -> anyhow::Result<BTreeMap<Key, Value>> {
    use serde::Deserialize;
    let mut out = BTreeMap::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc)?;
        if v.is_null() {
            continue;
        }
        out.insert(key_of(&v), v);
    }
    Ok(out)
}

/// Keys sorted; strings holding a JSON object or array pretty-printed, so they diff by line.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), normalize(v)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            match serde_json::from_str::<Value>(s) {
                Ok(inner @ (Value::Object(_) | Value::Array(_))) => Value::String(
                    serde_json::to_string_pretty(&normalize(&inner)).unwrap_or_else(|_| s.clone())
                        + "\n",
                ),
                _ => v.clone(),
            }
        }
        other => other.clone(),
    }
}

fn render(v: &Value) -> String {
    serde_yaml::to_string(&normalize(v)).unwrap_or_default()
}

fn unified(a: &str, b: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

pub fn diff(a: &str, b: &str) -> anyhow::Result<ManifestDiff> {
    let (a, b) = (documents(a)?, documents(b)?);
    let mut out = ManifestDiff::default();
    for (k, va) in &a {
        match b.get(k) {
            None => out.removed.push(k.clone()),
            Some(vb) => {
                let (ra, rb) = (render(va), render(vb));
                if ra != rb {
                    out.changed.push(Changed {
                        key: k.clone(),
                        diff: unified(&ra, &rb),
                    });
                }
            }
        }
    }
    out.added = b.keys().filter(|k| !a.contains_key(k)).cloned().collect();
    Ok(out)
}

/// For people: each resource, then its hunks; red/green on a terminal.
pub fn render_text(d: &ManifestDiff, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    if d.identical() {
        return "The manifests are identical.\n".into();
    }
    let mut out = String::new();
    for c in &d.changed {
        out.push_str(&paint("1", &format!("changed {}", c.key)));
        out.push('\n');
        for line in c.diff.lines() {
            let l = if line.starts_with("@@") {
                paint("36", line)
            } else if line.starts_with('-') {
                paint("31", line)
            } else if line.starts_with('+') {
                paint("32", line)
            } else {
                line.to_string()
            };
            out.push_str(&format!("  {l}\n"));
        }
    }
    for k in &d.added {
        out.push_str(&paint("32", &format!("added {k}")));
        out.push('\n');
    }
    for k in &d.removed {
        out.push_str(&paint("31", &format!("removed {k}")));
        out.push('\n');
    }
    out.push_str(&format!(
        "{} changed, {} added, {} removed\n",
        d.changed.len(),
        d.added.len(),
        d.removed.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |\n    accessLogEncoding: TEXT\n    accessLogFile: \"\"\n    rootNamespace: istio-system\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio-sidecar-injector\n  namespace: istio-system\ndata:\n  values: '{\"global\":{\"jwtPolicy\":\"first-party-jwt\",\"proxy\":{\"accessLogFile\":\"\",\"statusPort\":15020}}}'\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: istiod\n  namespace: istio-system\nspec:\n  ports:\n  - port: 15012\n";

    #[test]
    fn identical_manifests() {
        let d = diff(A, A).unwrap();
        assert!(d.identical());
        assert_eq!(render_text(&d, false), "The manifests are identical.\n");
    }

    #[test]
    fn embedded_blobs_change_by_line() {
        let b = A
            .replace("accessLogFile: \\\"\\\"", "accessLogFile: /dev/stdout")
            .replace("accessLogFile: \"\"", "accessLogFile: /dev/stdout")
            .replace(
                "\\\"accessLogFile\\\":\\\"\\\"",
                "\\\"accessLogFile\\\":\\\"/dev/stdout\\\"",
            )
            .replace(
                "\"accessLogFile\":\"\"",
                "\"accessLogFile\":\"/dev/stdout\"",
            );
        let d = diff(A, &b).unwrap();
        let names: Vec<String> = d.changed.iter().map(|c| c.key.to_string()).collect();
        assert_eq!(
            names,
            [
                "ConfigMap istio-system/istio",
                "ConfigMap istio-system/istio-sidecar-injector"
            ]
        );
        let injector = &d.changed[1].diff;
        assert!(
            injector.contains("-          \"accessLogFile\": \"\",\n"),
            "{injector}"
        );
        assert!(
            injector.contains("+          \"accessLogFile\": \"/dev/stdout\",\n"),
            "{injector}"
        );
        assert_eq!(
            injector
                .lines()
                .filter(|l| l.starts_with(['-', '+'])
                    && !l.starts_with("---")
                    && !l.starts_with("+++"))
                .count(),
            2
        );
        assert!(
            d.changed[0]
                .diff
                .contains("+    accessLogFile: /dev/stdout"),
            "{}",
            d.changed[0].diff
        );
    }

    #[test]
    fn added_and_removed_resources() {
        let b = A.replace("name: istiod", "name: istio-pilot");
        let d = diff(A, &b).unwrap();
        assert_eq!(d.added[0].to_string(), "Service istio-system/istio-pilot");
        assert_eq!(d.removed[0].to_string(), "Service istio-system/istiod");
        assert!(render_text(&d, false).ends_with("0 changed, 1 added, 1 removed\n"));
    }
}
