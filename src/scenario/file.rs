//! Scenario and Matrix documents as written in YAML, turned into a `Layer`.
//!
//! The text is parsed into a YAML tree first and then walked against the schema below, so every
//! problem in a file is reported at once (an unknown field does not hide the bad values after
//! it), each with `file:line:column`, the field, what was found and what is accepted. Unknown
//! fields are rejected so a typo never silently does nothing; a key given twice in one map is
//! rejected by the YAML parse itself.

use std::path::Path;

use indexmap::IndexMap;
use serde_yaml::{Mapping, Value};

use super::error::{Problem, ScenarioError, path_origin};
use super::layer::{Layer, Origin, Scalar, Sourced};
use super::locate::{Seg, locate};

pub const API_VERSION: &str = "meshup/v1";

/// A `kind: Matrix` document, read: the base as a layer, the axes' values as scalars.
#[derive(Debug, Clone)]
pub struct MatrixDoc {
    pub base: Layer,
    pub axes: IndexMap<String, Vec<Scalar>>,
    pub exclude: Vec<IndexMap<String, Scalar>>,
}

/// A parsed document: either kind.
pub enum Document {
    Scenario(Box<Layer>),
    Matrix(Box<MatrixDoc>),
}

const TOP: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "cluster",
    "tunnel",
    "mesh",
    "verify",
];
const MATRIX_TOP: &[&str] = &["apiVersion", "kind", "metadata", "base", "axes", "exclude"];
const METADATA: &[&str] = &["name", "description"];
const CLUSTER: &[&str] = &[
    "provider",
    "profile",
    "driver",
    "kubernetes",
    "cpus",
    "memory",
    "extraArgs",
];
const MESH: &[&str] = &[
    "istio",
    "istioProfile",
    "profile",
    "set",
    "jwtPolicy",
    "method",
];
const VERIFY: &[&str] = &["loadBalancers", "smoke", "timeouts"];
const SMOKE: &[&str] = &["namespace", "image"];
const TIMEOUTS: &[&str] = &["check", "total"];

/// Problems whose location is looked up (one parse each); the rest keep the file name only.
const LOCATED_PROBLEMS: usize = 50;

/// A document read as far as its problems allow: the caller validates the values too and
/// reports the file's problems together with the values' (every problem at once).
pub struct Loaded {
    pub document: Document,
    /// Unknown fields, wrong shapes: what the schema walk found.
    pub problems: ScenarioError,
    pub locator: Locator,
}

/// The file's text, kept to locate problems found after parsing.
pub struct Locator {
    text: String,
    path: std::path::PathBuf,
}

impl Locator {
    /// Gives problems about values from this file (found by validation) its `line:column`.
    pub fn locate(&self, err: &mut ScenarioError) {
        let mine = path_origin(&self.path).to_string();
        for p in err.problems.iter_mut().take(LOCATED_PROBLEMS) {
            if p.location.is_some() || p.source.as_deref() != Some(mine.as_str()) {
                continue;
            }
            let at: Vec<Seg> = match p.field.strip_prefix("mesh.set.") {
                Some(set_key) => vec![key("mesh"), key("set"), key(set_key)],
                None => p.field.split('.').map(key).collect(),
            };
            if let Some((line, col)) = locate(&self.text, &at) {
                p.location = Some(format!("{}:{line}:{col}", self.path.display()));
                p.source = None;
            }
        }
    }
}

/// The document and every problem with it; a fatal error when it is not YAML at all.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    let text = super::read::read(path)?;
    let (document, problems) = parse_partial(path, &text)?;
    Ok(Loaded {
        document,
        problems,
        locator: Locator {
            text,
            path: path.to_path_buf(),
        },
    })
}

/// The document, or every problem in it (values are checked later, by validation).
pub fn parse(path: &Path, text: &str) -> Result<Document, ScenarioError> {
    match parse_partial(path, text)? {
        (doc, problems) if problems.is_empty() => Ok(doc),
        (_, problems) => Err(problems),
    }
}

fn parse_partial(path: &Path, text: &str) -> Result<(Document, ScenarioError), ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ScenarioError::one(
            Problem::new("(document)", "the file is empty; a scenario needs at least `apiVersion: meshup/v1` and `kind: Scenario`")
                .from_origin(&path_origin(path)),
        ));
    }
    let doc: Value = serde_yaml::from_str(text).map_err(|e| ScenarioError::yaml(path, &e))?;
    let mut w = Walk {
        origin: path_origin(path),
        problems: Vec::new(),
    };
    let Value::Mapping(top) = &doc else {
        w.problem(
            &[],
            "(document)",
            format!(
                "{} is not a scenario; accepted: a map with apiVersion, kind and the scenario's sections",
                shown(&doc)
            ),
        );
        return Err(w.finish(path, text));
    };
    let kind = top.get("kind").and_then(Value::as_str);
    let document = if kind == Some("Matrix") {
        w.keys(&[], "(document)", top, MATRIX_TOP);
        w.header(top, "Matrix");
        let base = match w.section(&[key("base")], "base", top.get("base"), TOP) {
            Some(base) => w.scenario(&[key("base")], "base.", base),
            None => Layer::default(),
        };
        let axes = w.axes(top.get("axes"));
        let exclude = w.exclude(top.get("exclude"));
        Document::Matrix(Box::new(MatrixDoc {
            base,
            axes,
            exclude,
        }))
    } else {
        w.keys(&[], "(document)", top, TOP);
        w.header(top, "Scenario");
        Document::Scenario(Box::new(w.scenario(&[], "", top)))
    };
    Ok((document, w.finish(path, text)))
}

fn key(k: &str) -> Seg {
    Seg::Key(Value::String(k.to_string()))
}

fn with(path: &[Seg], seg: Seg) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(seg);
    p
}

/// A value as the user wrote it, for messages: `4`, `` `text` ``, a list, a map.
fn shown(v: &Value) -> String {
    match v {
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a map".to_string(),
        Value::Null => "an empty value".to_string(),
        Value::Tagged(_) => "a tagged value".to_string(),
        other => format!("`{}`", Scalar::from_yaml(other).display()),
    }
}

/// The schema walk: fills a layer and collects problems with the path they are at.
struct Walk {
    origin: Origin,
    problems: Vec<(Vec<Seg>, Problem)>,
}

impl Walk {
    fn problem(&mut self, at: &[Seg], field: &str, message: String) {
        self.problems.push((
            at.to_vec(),
            Problem::new(field, message).from_origin(&self.origin),
        ));
    }

    /// Turns the problems into an error, with `file:line:column` where it can be found.
    fn finish(self, path: &Path, text: &str) -> ScenarioError {
        let mut err = ScenarioError::default();
        for (i, (at, mut p)) in self.problems.into_iter().enumerate() {
            let place = (i < LOCATED_PROBLEMS).then(|| locate(text, &at)).flatten();
            if let Some((line, col)) = place {
                p.location = Some(format!("{}:{line}:{col}", path.display()));
                p.source = None;
            }
            err.push(p);
        }
        err
    }

    /// Every key of a map is a string naming a known field.
    fn keys(&mut self, at: &[Seg], field: &str, map: &Mapping, known: &[&str]) {
        for k in map.keys() {
            match k {
                Value::String(name) if known.contains(&name.as_str()) => {}
                Value::String(name) => self.problem(
                    &with(at, Seg::Key(k.clone())),
                    field,
                    format!("unknown field `{name}`; accepted: {}", known.join(", ")),
                ),
                other => self.problem(
                    &with(at, Seg::Key(k.clone())),
                    field,
                    format!(
                        "the key {} is not a field name; accepted: {}",
                        shown(other),
                        known.join(", ")
                    ),
                ),
            }
        }
    }

    /// A map of known fields; `None` when absent or empty (`cluster:` alone).
    fn section<'v>(
        &mut self,
        at: &[Seg],
        field: &str,
        v: Option<&'v Value>,
        known: &[&str],
    ) -> Option<&'v Mapping> {
        match v? {
            Value::Null => None,
            Value::Mapping(m) => {
                self.keys(at, field, m, known);
                Some(m)
            }
            other => {
                self.problem(
                    at,
                    field,
                    format!(
                        "{} is not a section; accepted: a map with {}",
                        shown(other),
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn header(&mut self, top: &Mapping, want_kind: &str) {
        match top.get("apiVersion") {
            Some(Value::String(v)) if v == API_VERSION => {}
            other => self.problem(
                &[key("apiVersion")],
                "apiVersion",
                format!(
                    "{} is not a meshup document version; accepted: {API_VERSION}",
                    other.map_or("`<missing>`".to_string(), shown)
                ),
            ),
        }
        match top.get("kind") {
            Some(Value::String(k)) if k == want_kind => {}
            other => self.problem(
                &[key("kind")],
                "kind",
                format!(
                    "{} is not a document kind meshup reads; accepted: Scenario, Matrix",
                    other.map_or("`<missing>`".to_string(), shown)
                ),
            ),
        }
    }

    /// A scenario body (a Scenario document, or a Matrix's `base`).
    fn scenario(&mut self, at: &[Seg], prefix: &str, top: &Mapping) -> Layer {
        let o = self.origin.clone();
        let scalar = |m: Option<&Mapping>, k: &str| -> Option<Sourced<Scalar>> {
            match m?.get(k)? {
                Value::Null => None,
                v => Some(Sourced::new(Scalar::from_yaml(v), o.clone())),
            }
        };
        let sub = |name: &str| with(at, key(name));
        let f = |name: &str| format!("{prefix}{name}");
        let metadata = self.section(
            &sub("metadata"),
            &f("metadata"),
            top.get("metadata"),
            METADATA,
        );
        if let Some(d) = metadata.and_then(|m| m.get("description"))
            && !matches!(d, Value::String(_) | Value::Null)
        {
            self.problem(
                &with(&sub("metadata"), key("description")),
                &f("metadata.description"),
                format!("{} is not text; accepted: a string", shown(d)),
            );
        }
        let cluster = self.section(&sub("cluster"), &f("cluster"), top.get("cluster"), CLUSTER);
        let mesh = self.section(&sub("mesh"), &f("mesh"), top.get("mesh"), MESH);
        let verify = self.section(&sub("verify"), &f("verify"), top.get("verify"), VERIFY);
        let smoke = self.section(
            &with(&sub("verify"), key("smoke")),
            &f("verify.smoke"),
            verify.and_then(|v| v.get("smoke")),
            SMOKE,
        );
        let timeouts = self.section(
            &with(&sub("verify"), key("timeouts")),
            &f("verify.timeouts"),
            verify.and_then(|v| v.get("timeouts")),
            TIMEOUTS,
        );
        let istio_profile = match (
            mesh.and_then(|m| m.get("istioProfile")),
            mesh.and_then(|m| m.get("profile")),
        ) {
            (Some(_), Some(_)) => {
                self.problem(
                    &with(&sub("mesh"), key("profile")),
                    &f("mesh.profile"),
                    "is `mesh.istioProfile` given a second time; accepted: one of the two"
                        .to_string(),
                );
                scalar(mesh, "istioProfile")
            }
            (Some(_), None) => scalar(mesh, "istioProfile"),
            _ => scalar(mesh, "profile"),
        };
        Layer {
            name: scalar(metadata, "name"),
            provider: scalar(cluster, "provider"),
            cluster_profile: scalar(cluster, "profile"),
            driver: scalar(cluster, "driver"),
            kubernetes: scalar(cluster, "kubernetes"),
            cpus: scalar(cluster, "cpus"),
            memory: scalar(cluster, "memory"),
            extra_args: self.strings(
                &with(&sub("cluster"), key("extraArgs")),
                &f("cluster.extraArgs"),
                cluster.and_then(|c| c.get("extraArgs")),
                "minikube flags, e.g. [\"--container-runtime=docker\"]",
            ),
            tunnel: scalar(Some(top), "tunnel"),
            istio: scalar(mesh, "istio"),
            istio_profile,
            set: self.set(
                &with(&sub("mesh"), key("set")),
                &f("mesh.set"),
                mesh.and_then(|m| m.get("set")),
            ),
            jwt_policy: scalar(mesh, "jwtPolicy"),
            method: scalar(mesh, "method"),
            load_balancers: self.strings(
                &with(&sub("verify"), key("loadBalancers")),
                &f("verify.loadBalancers"),
                verify.and_then(|v| v.get("loadBalancers")),
                "namespace/name references, e.g. [istio-system/istio-ingressgateway]",
            ),
            smoke_namespace: scalar(smoke, "namespace"),
            smoke_image: scalar(smoke, "image"),
            check_timeout: scalar(timeouts, "check"),
            total_timeout: scalar(timeouts, "total"),
        }
    }

    /// A list of strings (`extraArgs`, `loadBalancers`).
    fn strings(
        &mut self,
        at: &[Seg],
        field: &str,
        v: Option<&Value>,
        accepted: &str,
    ) -> Option<Sourced<Vec<String>>> {
        let items = match v? {
            Value::Null => return None,
            Value::Sequence(items) => items,
            other => {
                self.problem(
                    at,
                    field,
                    format!(
                        "{} is not a list; accepted: a list of {accepted}",
                        shown(other)
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => self.problem(
                    &with(at, Seg::Index(i)),
                    &format!("{field}[{i}]"),
                    format!(
                        "{} is not a string; accepted: {accepted} (quote it)",
                        shown(other)
                    ),
                ),
            }
        }
        Some(Sourced::new(out, self.origin.clone()))
    }

    /// `mesh.set`: string keys (istioctl paths) to scalar values.
    fn set(
        &mut self,
        at: &[Seg],
        field: &str,
        v: Option<&Value>,
    ) -> IndexMap<String, Sourced<Scalar>> {
        let mut out = IndexMap::new();
        let map = match v {
            None | Some(Value::Null) => return out,
            Some(Value::Mapping(m)) => m,
            Some(other) => {
                self.problem(
                    at,
                    field,
                    format!(
                        "{} is not a map; accepted: istioctl paths to values, e.g. values.global.proxy.accessLogFile: /dev/stdout",
                        shown(other)
                    ),
                );
                return out;
            }
        };
        for (k, value) in map {
            match k {
                Value::String(path) => {
                    out.insert(
                        path.clone(),
                        Sourced::new(Scalar::from_yaml(value), self.origin.clone()),
                    );
                }
                other => self.problem(
                    &with(at, Seg::Key(k.clone())),
                    field,
                    format!(
                        "the key {} is not a path; accepted: a dotted istioctl path like values.global.jwtPolicy (a string)",
                        shown(other)
                    ),
                ),
            }
        }
        out
    }

    fn axes(&mut self, v: Option<&Value>) -> IndexMap<String, Vec<Scalar>> {
        let mut out = IndexMap::new();
        let at = [key("axes")];
        let map = match v {
            Some(Value::Mapping(m)) => m,
            None | Some(Value::Null) => return out,
            Some(other) => {
                self.problem(&at, "axes", format!("{} is not a map; accepted: field paths to lists of values, e.g. cluster.kubernetes: [v1.15.10, v1.16.15]", shown(other)));
                return out;
            }
        };
        for (k, values) in map {
            let here = with(&at, Seg::Key(k.clone()));
            let Value::String(axis) = k else {
                self.problem(
                    &here,
                    "axes",
                    format!(
                        "the key {} is not a field path; accepted: {}",
                        shown(k),
                        super::layer::AXIS_PATHS.join(", ")
                    ),
                );
                continue;
            };
            match values {
                Value::Sequence(items) => {
                    out.insert(axis.clone(), items.iter().map(Scalar::from_yaml).collect());
                }
                other => self.problem(
                    &here,
                    &format!("axes.{axis}"),
                    format!("{} is not a list; accepted: a list of values", shown(other)),
                ),
            }
        }
        out
    }

    fn exclude(&mut self, v: Option<&Value>) -> Vec<IndexMap<String, Scalar>> {
        let at = [key("exclude")];
        let items = match v {
            Some(Value::Sequence(items)) => items,
            None | Some(Value::Null) => return Vec::new(),
            Some(other) => {
                self.problem(
                    &at,
                    "exclude",
                    format!(
                        "{} is not a list; accepted: a list of maps from axis to value",
                        shown(other)
                    ),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::Mapping(m) = item else {
                self.problem(
                    &with(&at, Seg::Index(i)),
                    &format!("exclude[{i}]"),
                    format!("{} is not a map; accepted: axis: value pairs", shown(item)),
                );
                continue;
            };
            let mut one = IndexMap::new();
            for (k, value) in m {
                match k {
                    Value::String(axis) => {
                        one.insert(axis.clone(), Scalar::from_yaml(value));
                    }
                    other => self.problem(
                        &with(&with(&at, Seg::Index(i)), Seg::Key(k.clone())),
                        &format!("exclude[{i}]"),
                        format!(
                            "the key {} is not an axis; accepted: one of the matrix's axes",
                            shown(other)
                        ),
                    ),
                }
            }
            out.push(one);
        }
        out
    }
}
