//! The IstioOperator an istioctl of a given version builds from `--set`, `-f` and a profile:
//! which profiles exist, which value paths are valid, and what they mean for the manifest.

use serde_yaml::{Mapping, Value};

/// An emulated Istio release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Istio {
    pub version: String,
    pub minor: u64,
    pub patch: u64,
}

impl Istio {
    pub fn new(v: &str) -> Istio {
        let (_, minor, patch, _) =
            crate::fakes::common::parse_version(v).unwrap_or((1, 5, 0, false));
        Istio {
            version: v.trim_start_matches('v').to_string(),
            minor,
            patch,
        }
    }

    pub fn between(&self, from: u64, to: u64) -> bool {
        (from..=to).contains(&self.minor)
    }

    pub fn profiles(&self) -> Vec<&'static str> {
        let m = self.minor;
        let mut p = vec!["default", "demo", "empty", "minimal"];
        if m == 5 {
            p.extend(["remote", "separate"]);
        } else {
            p.push("preview");
            if m != 15 {
                p.push("remote");
            }
        }
        if m >= 8 {
            p.push("openshift");
        }
        if (10..=21).contains(&m) {
            p.push("external");
        }
        if m >= 16 {
            p.push("ambient");
        }
        if m >= 22 {
            p.extend(["openshift-ambient", "stable"]);
        }
        p.sort();
        p
    }

    pub fn hub(&self) -> &'static str {
        if self.minor >= 30 {
            "registry.istio.io/release"
        } else {
            "docker.io/istio"
        }
    }
}

/// What the rendered manifest depends on.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: String,
    pub hub: String,
    pub tag: String,
    pub revision: String,
    pub base: bool,
    pub pilot: bool,
    pub ingress: bool,
    pub egress: bool,
    pub addons: Vec<&'static str>,
    pub access_log_file: String,
    pub access_log_encoding: String,
    pub jwt_policy: String,
    /// The user chose `values.global.jwtPolicy` (detection must not override it).
    pub jwt_policy_set: bool,
    pub ingress_type: String,
    pub spec: Value,
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("static yaml")
}

/// The profile as `profile dump` shows it (the IstioOperator spec).
pub fn profile_spec(istio: &Istio, profile: &str) -> Option<Value> {
    if !istio.profiles().contains(&profile) {
        return None;
    }
    let tag = &istio.version;
    let mut spec = yaml(&format!(
        "components:\n  base:\n    enabled: true\n  pilot:\n    enabled: true\n  ingressGateways:\n  - name: istio-ingressgateway\n    enabled: true\n  egressGateways:\n  - name: istio-egressgateway\n    enabled: false\nhub: {}\ntag: {tag}\nvalues:\n  global:\n    istioNamespace: istio-system\n    jwtPolicy: third-party-jwt\n    proxy:\n      statusPort: {}\n  gateways:\n    istio-ingressgateway:\n      type: LoadBalancer\n",
        istio.hub(),
        // The agent's port in every release; 15021 is the readiness port from 1.6 (§6.7).
        15020
    ));
    if istio.minor == 5 {
        spec["values"]["global"]["proxy"]["accessLogFile"] = Value::from("");
        spec["values"]["global"]["proxy"]["accessLogEncoding"] = Value::from("TEXT");
    } else {
        spec["meshConfig"] =
            yaml("defaultConfig:\n  proxyMetadata: {}\nenablePrometheusMerge: true\n");
    }
    if istio.minor <= 6 {
        spec["addonComponents"] = yaml(
            "prometheus:\n  enabled: true\ngrafana:\n  enabled: false\nkiali:\n  enabled: false\ntracing:\n  enabled: false\n",
        );
    }
    match profile {
        "demo" => {
            spec["components"]["egressGateways"][0]["enabled"] = Value::from(true);
            if istio.minor == 5 {
                spec["values"]["global"]["proxy"]["accessLogFile"] = Value::from("/dev/stdout");
            } else {
                spec["meshConfig"]["accessLogFile"] = Value::from("/dev/stdout");
            }
            if istio.minor <= 6 {
                for a in ["grafana", "kiali", "tracing"] {
                    spec["addonComponents"][a]["enabled"] = Value::from(true);
                }
            }
            spec["values"]["profile"] = Value::from("demo");
        }
        "minimal" | "remote" | "ambient" | "openshift-ambient" => {
            spec["components"]["ingressGateways"][0]["enabled"] = Value::from(false);
            if let Some(a) = spec.get_mut("addonComponents") {
                a["prometheus"]["enabled"] = Value::from(false);
            }
        }
        "empty" => {
            for c in ["base", "pilot"] {
                spec["components"][c]["enabled"] = Value::from(false);
            }
            spec["components"]["ingressGateways"][0]["enabled"] = Value::from(false);
            if let Some(a) = spec.get_mut("addonComponents") {
                a["prometheus"]["enabled"] = Value::from(false);
            }
        }
        _ => {}
    }
    Some(spec)
}

/// `--set` values as istioctl reads them: bools and integers typed, the rest strings.
fn scalar(v: &str) -> Value {
    match v {
        "true" => Value::from(true),
        "false" => Value::from(false),
        _ => v
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(v)),
    }
}

/// Splits `a.b.[name:x].c` / `a.b[0].c` into segments.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for ch in path.chars() {
        match ch {
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                depth += 1;
                cur.push(ch);
            }
            ']' => {
                depth -= 1;
                cur.push(ch);
                out.push(std::mem::take(&mut cur));
            }
            '.' if depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn set_path(root: &mut Value, segs: &[String], value: Value) {
    let Some((first, rest)) = segs.split_first() else {
        *root = value;
        return;
    };
    if let Some(sel) = first.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if !root.is_sequence() {
            *root = Value::Sequence(vec![]);
        }
        let seq = root.as_sequence_mut().expect("sequence");
        let idx = if let Some((k, v)) = sel.split_once(':') {
            match seq
                .iter()
                .position(|e| e.get(k).and_then(Value::as_str) == Some(v))
            {
                Some(i) => i,
                None => {
                    let mut m = Mapping::new();
                    m.insert(Value::from(k), Value::from(v));
                    seq.push(Value::Mapping(m));
                    seq.len() - 1
                }
            }
        } else {
            let i: usize = sel.parse().unwrap_or(0);
            while seq.len() <= i {
                seq.push(Value::Mapping(Mapping::new()));
            }
            i
        };
        set_path(&mut seq[idx], rest, value);
        return;
    }
    if !root.is_mapping() {
        *root = Value::Mapping(Mapping::new());
    }
    let m = root.as_mapping_mut().expect("mapping");
    let slot = m.entry(Value::from(first.as_str())).or_insert(Value::Null);
    set_path(slot, rest, value);
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// A `--set` failure, printed like istioctl's validation errors.
#[derive(Debug)]
pub struct SetError(pub String);

impl SetError {
    /// As istioctl prints it: `Error: ...`, after the hint line when there is one.
    pub fn text(&self) -> String {
        if self.0.contains("\nError: ") {
            self.0.clone()
        } else {
            format!("Error: {}", self.0)
        }
    }
}

/// Builds the spec: profile, then `-f` files, then `--set`s; validates paths for the version.
/// The IstioOperator from the command line's `-f/--filename` and `-s/--set` (plus `extra_sets`,
/// applied last), as istioctl builds it for install, generate and profile dump.
pub fn build_from_args(
    istio: &Istio,
    args: &crate::fakes::common::Args,
    extra_sets: &[String],
    warnings: &mut Vec<String>,
) -> Result<Settings, SetError> {
    let strings =
        |names: &[&str]| -> Vec<String> { args.all(names).iter().map(|s| s.to_string()).collect() };
    let mut sets = strings(&["-s", "--set"]);
    sets.extend(extra_sets.iter().cloned());
    let files = strings(&["-f", "--filename"]);
    build(istio, &files, &sets, args.bool(&["--force"]), warnings)
}

pub fn build(
    istio: &Istio,
    files: &[String],
    sets: &[String],
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<Settings, SetError> {
    let mut overlay = Value::Mapping(Mapping::new());
    let mut profile = "default".to_string();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| SetError(format!("could not read values from file {f}: {e}")))?;
        let doc: Value = serde_yaml::from_str(&text)
            .map_err(|e| SetError(format!("could not parse {f}: {e}")))?;
        if let Some(spec) = doc.get("spec") {
            if let Some(p) = spec.get("profile").and_then(Value::as_str) {
                profile = p.to_string();
            }
            merge(&mut overlay, spec);
        }
    }
    for s in sets {
        let Some((path, value)) = s.split_once('=') else {
            return Err(SetError(format!(
                "--set {s}: must be of the form path=value"
            )));
        };
        if path == "profile" {
            profile = value.to_string();
            continue;
        }
        validate_path(istio, path, value, force, warnings)?;
        set_path(&mut overlay, &segments(path), scalar(value));
    }
    if let Some(m) = overlay.as_mapping_mut() {
        m.remove("profile");
    }
    let Some(mut spec) = profile_spec(istio, &profile) else {
        return Err(SetError(format!(
            "could not read values from file {profile}: open {profile}: no such file or directory"
        )));
    };
    merge(&mut spec, &overlay);
    let s = |path: &[&str]| -> Option<Value> {
        let mut cur = &spec;
        for p in path {
            cur = cur.get(*p)?;
        }
        Some(cur.clone())
    };
    let str_at = |path: &[&str]| s(path).and_then(|v| v.as_str().map(String::from));
    let enabled = |path: &[&str]| s(path).and_then(|v| v.as_bool());
    let gw_enabled = |list: &str, name: &str, alt: &str| {
        let alt = s(&["values", "gateways", alt, "enabled"]).and_then(|v| v.as_bool());
        let listed = s(&["components", list]).and_then(|v| {
            v.as_sequence()?
                .iter()
                .find(|g| g.get("name").and_then(Value::as_str) == Some(name))?
                .get("enabled")?
                .as_bool()
        });
        alt.or(listed).unwrap_or(false)
    };
    let (file, encoding) = if istio.minor <= 6 {
        let old_file = str_at(&["values", "global", "proxy", "accessLogFile"]);
        let old_enc = str_at(&["values", "global", "proxy", "accessLogEncoding"]);
        let new_file = str_at(&["meshConfig", "accessLogFile"]);
        let new_enc = str_at(&["meshConfig", "accessLogEncoding"]);
        (
            new_file
                .filter(|f| !f.is_empty())
                .or(old_file)
                .unwrap_or_default(),
            new_enc.or(old_enc).unwrap_or_else(|| "TEXT".into()),
        )
    } else {
        (
            str_at(&["meshConfig", "accessLogFile"]).unwrap_or_default(),
            str_at(&["meshConfig", "accessLogEncoding"]).unwrap_or_else(|| "TEXT".into()),
        )
    };
    let mut addons = Vec::new();
    if istio.minor <= 6 {
        for a in ["prometheus", "grafana", "kiali", "tracing"] {
            let v = s(&["values", a, "enabled"])
                .and_then(|v| v.as_bool())
                .or(enabled(&["addonComponents", a, "enabled"]));
            if v == Some(true) {
                addons.push(a);
            }
        }
    }
    let jwt_set = sets
        .iter()
        .any(|x| x.starts_with("values.global.jwtPolicy="))
        || files
            .iter()
            .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("jwtPolicy")));
    Ok(Settings {
        hub: str_at(&["hub"]).unwrap_or_else(|| istio.hub().into()),
        tag: str_at(&["tag"]).unwrap_or_else(|| istio.version.clone()),
        revision: str_at(&["revision"]).unwrap_or_default(),
        base: enabled(&["components", "base", "enabled"]).unwrap_or(true),
        pilot: enabled(&["components", "pilot", "enabled"]).unwrap_or(true),
        ingress: gw_enabled(
            "ingressGateways",
            "istio-ingressgateway",
            "istio-ingressgateway",
        ),
        egress: gw_enabled(
            "egressGateways",
            "istio-egressgateway",
            "istio-egressgateway",
        ),
        addons,
        access_log_file: file,
        access_log_encoding: encoding,
        jwt_policy: str_at(&["values", "global", "jwtPolicy"])
            .unwrap_or_else(|| "third-party-jwt".into()),
        jwt_policy_set: jwt_set,
        ingress_type: str_at(&["values", "gateways", "istio-ingressgateway", "type"])
            .unwrap_or_else(|| "LoadBalancer".into()),
        profile,
        spec,
    })
}

/// Value-path rules by version: the era's schema (schema.rs), plus 1.6's deprecation warnings
/// for the access-log fields that moved to meshConfig (research/istio.md §3.1).
fn validate_path(
    istio: &Istio,
    path: &str,
    value: &str,
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<(), SetError> {
    if let Err(e) = super::schema::validate(istio.minor, path, value) {
        if force {
            warnings.push(format!("! {e}"));
            return Ok(());
        }
        return Err(SetError(format!(
            "Run the command with the --force flag if you want to ignore the validation error and proceed.\nError: {e}"
        )));
    }
    let proxy_log = ["accessLogFile", "accessLogEncoding", "accessLogFormat"]
        .into_iter()
        .find(|f| path == format!("values.global.proxy.{f}"));
    if let (Some(field), 6) = (proxy_log, istio.minor) {
        warnings.push(format!(
            "! global.proxy.{field} is deprecated; use meshConfig.{field} instead"
        ));
    }
    Ok(())
}

/// `profile dump`: keys sorted, as istioctl prints them.
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Mapping(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by_key(|(k, _)| k.as_str().unwrap_or("").to_string());
            Value::Mapping(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Sequence(s) => Value::Sequence(s.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_and_paths_by_version() {
        let i15 = Istio::new("1.5.0");
        let mut w = Vec::new();
        let s = build(
            &i15,
            &[],
            &[
                "profile=demo".into(),
                "values.global.proxy.accessLogFile=/dev/stdout".into(),
                "values.global.proxy.accessLogEncoding=JSON".into(),
            ],
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(
            (
                s.access_log_file.as_str(),
                s.access_log_encoding.as_str(),
                s.egress
            ),
            ("/dev/stdout", "JSON", true)
        );
        assert!(
            build(
                &i15,
                &[],
                &["meshConfig.accessLogFile=/dev/stdout".into()],
                false,
                &mut w
            )
            .is_err()
        );
        let i17 = Istio::new("1.7.4");
        let e = build(
            &i17,
            &[],
            &["values.global.proxy.accessLogFile=/dev/stdout".into()],
            false,
            &mut w,
        )
        .unwrap_err();
        assert!(
            e.0.contains("unknown field \"accessLogFile\" in v1alpha1.ProxyConfig"),
            "{}",
            e.0
        );
        let s = build(
            &Istio::new("1.6.8"),
            &[],
            &["values.global.proxy.accessLogFile=/dev/stdout".into()],
            false,
            &mut w,
        )
        .unwrap();
        assert_eq!(s.access_log_file, "/dev/stdout");
        assert!(w.iter().any(|x| x.contains("deprecated")));
        let s = build(
            &Istio::new("1.20.0"),
            &[],
            &[
                "values.gateways.istio-egressgateway.enabled=true".into(),
                "components.ingressGateways.[name:istio-ingressgateway].enabled=false".into(),
            ],
            false,
            &mut w,
        )
        .unwrap();
        assert!(s.egress && !s.ingress);
        assert!(Istio::new("1.5.0").profiles().contains(&"separate"));
        assert!(!Istio::new("1.22.0").profiles().contains(&"external"));
    }
}
