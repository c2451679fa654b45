//! One source of scenario settings (the built-in default, a file, the environment, flags),
//! kept raw and tagged with where each value came from, so a bad value is reported as
//! "`8gbx` (from --memory)". Layers are merged field by field, later ones winning.

use std::fmt;
use std::path::PathBuf;

use indexmap::IndexMap;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
    /// A matrix axis or the matrix's base.
    Matrix(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Env(var) => write!(f, "${var}"),
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Matrix(p) => write!(f, "matrix {}", p.display()),
        }
    }
}

/// A YAML scalar before it is given a meaning; flags and env are always `Str`.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A sequence, map or null where a scalar was expected: its YAML kind.
    Other(&'static str),
}

impl Scalar {
    pub fn from_yaml(value: &serde_yaml::Value) -> Scalar {
        use serde_yaml::Value;
        match value {
            Value::String(s) => Scalar::Str(s.clone()),
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Scalar::Int(i),
                None => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Null => Scalar::Other("null"),
            Value::Sequence(_) => Scalar::Other("a list"),
            Value::Mapping(_) => Scalar::Other("a map"),
            Value::Tagged(_) => Scalar::Other("a tagged value"),
        }
    }

    /// The text as the user wrote it, for messages (control characters escaped).
    pub fn display(&self) -> String {
        match self {
            Scalar::Str(s) => super::text::escape_controls(s).into_owned(),
            Scalar::Int(i) => i.to_string(),
            // 1e300, not three hundred digits.
            Scalar::Float(x) if x.abs() >= 1e16 => format!("{x:e}"),
            Scalar::Float(x) => x.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Other(kind) => format!("<{kind}>"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }
}

pub type Field = Option<Sourced<Scalar>>;

/// Every scenario setting, unparsed. Field names follow the YAML document.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub name: Field,
    pub provider: Field,
    pub cluster_profile: Field,
    pub driver: Field,
    pub kubernetes: Field,
    pub cpus: Field,
    pub memory: Field,
    pub extra_args: Option<Sourced<Vec<String>>>,
    pub tunnel: Field,
    pub istio: Field,
    pub istio_profile: Field,
    /// `mesh.set` in order; a later layer's key replaces the value in place.
    pub set: IndexMap<String, Sourced<Scalar>>,
    pub jwt_policy: Field,
    pub method: Field,
    pub load_balancers: Option<Sourced<Vec<String>>>,
    pub smoke_namespace: Field,
    pub smoke_image: Field,
    pub check_timeout: Field,
    pub total_timeout: Field,
}

impl Layer {
    /// `self` with `over` on top.
    pub fn merge(mut self, over: &Layer) -> Layer {
        fn pick<T: Clone>(base: &mut Option<T>, over: &Option<T>) {
            if over.is_some() {
                base.clone_from(over);
            }
        }
        pick(&mut self.name, &over.name);
        pick(&mut self.provider, &over.provider);
        pick(&mut self.cluster_profile, &over.cluster_profile);
        pick(&mut self.driver, &over.driver);
        pick(&mut self.kubernetes, &over.kubernetes);
        pick(&mut self.cpus, &over.cpus);
        pick(&mut self.memory, &over.memory);
        pick(&mut self.extra_args, &over.extra_args);
        pick(&mut self.tunnel, &over.tunnel);
        pick(&mut self.istio, &over.istio);
        pick(&mut self.istio_profile, &over.istio_profile);
        pick(&mut self.jwt_policy, &over.jwt_policy);
        pick(&mut self.method, &over.method);
        pick(&mut self.load_balancers, &over.load_balancers);
        pick(&mut self.smoke_namespace, &over.smoke_namespace);
        pick(&mut self.smoke_image, &over.smoke_image);
        pick(&mut self.check_timeout, &over.check_timeout);
        pick(&mut self.total_timeout, &over.total_timeout);
        for (k, v) in &over.set {
            self.set.insert(k.clone(), v.clone());
        }
        self
    }

    /// Sets a field by its dotted scenario path (matrix axes use this).
    /// Returns false for a path that is not an axis meshup supports.
    pub fn set_path(&mut self, path: &str, value: Sourced<Scalar>) -> bool {
        let slot = match path {
            "cluster.kubernetes" => &mut self.kubernetes,
            "cluster.cpus" => &mut self.cpus,
            "cluster.memory" => &mut self.memory,
            "cluster.driver" => &mut self.driver,
            "mesh.istio" => &mut self.istio,
            "mesh.istioProfile" | "mesh.profile" => &mut self.istio_profile,
            "mesh.jwtPolicy" => &mut self.jwt_policy,
            "mesh.method" => &mut self.method,
            "tunnel" => &mut self.tunnel,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// The field paths a matrix may vary.
pub const AXIS_PATHS: &[&str] = &[
    "cluster.kubernetes",
    "cluster.cpus",
    "cluster.memory",
    "cluster.driver",
    "mesh.istio",
    "mesh.istioProfile",
    "mesh.jwtPolicy",
    "mesh.method",
    "tunnel",
];
