//! Scenario flags (and the env vars clap read for them) → layers → a validated Scenario.

use crate::cli::ScenarioArgs;
use crate::scenario::{self, Layer, Origin, Problem, Scalar, Scenario, ScenarioError, Sourced};

/// Which scenario flags were filled from their environment variable rather than the command
/// line (clap merges both; main.rs asks clap which it was).
#[derive(Debug, Clone, Default)]
pub struct EnvSourced(pub Vec<String>);

impl EnvSourced {
    pub fn has(&self, id: &str) -> bool {
        self.0.iter().any(|i| i == id)
    }
}

/// The flag ids (clap) with their flag and env names.
const FLAGS: &[(&str, &str, &str)] = &[
    ("kubernetes", "--k8s", "MESHUP_K8S"),
    ("cpus", "--cpus", "MESHUP_CPUS"),
    ("memory", "--memory", "MESHUP_MEMORY"),
    ("istio", "--istio", "MESHUP_ISTIO"),
    ("istio_profile", "--istio-profile", "MESHUP_ISTIO_PROFILE"),
    (
        "cluster_profile",
        "--cluster-profile",
        "MESHUP_CLUSTER_PROFILE",
    ),
];

pub const ENV_IDS: &[&str] = &[
    "file",
    "kubernetes",
    "cpus",
    "memory",
    "istio",
    "istio_profile",
    "cluster_profile",
];

/// default < file (-f) < environment < flags.
pub fn scenario(args: &ScenarioArgs, env: &EnvSourced) -> anyhow::Result<Scenario> {
    scenario_over(None, args, env)
}

/// Like [`scenario`], with `base` (a profile's recorded settings) between the default and the
/// file.
pub fn scenario_over(
    base: Option<Layer>,
    args: &ScenarioArgs,
    env: &EnvSourced,
) -> anyhow::Result<Scenario> {
    let mut err = ScenarioError::default();
    let mut layers: Vec<Layer> = base.into_iter().collect();
    let mut locator = None;
    if let Some(path) = &args.file {
        match scenario::load_scenario_file(path) {
            Ok((layer, problems, at)) => {
                layers.push(layer);
                err.problems.extend(problems.problems);
                locator = Some(at);
            }
            // Not YAML, or not a scenario: its values cannot be checked; the flags still are.
            Err(e) => err.problems.extend(e.problems),
        }
    }
    let (env_layer, flag_layer) = flag_layers(args, env, &mut err);
    layers.push(env_layer);
    layers.push(flag_layer);
    // Every problem at once: the file's shape, the flags, and every value.
    match scenario::resolve(&layers) {
        Ok(s) if err.is_empty() => Ok(s),
        Ok(_) => Err(err.into_failure("the scenario").into()),
        Err(mut values) => {
            if let Some(at) = &locator {
                at.locate(&mut values);
            }
            err.problems.extend(values.problems);
            Err(err.into_failure("the scenario").into())
        }
    }
}

fn flag_layers(args: &ScenarioArgs, env: &EnvSourced, err: &mut ScenarioError) -> (Layer, Layer) {
    let mut from_env = Layer::default();
    let mut from_flags = Layer::default();
    let values = [
        &args.kubernetes,
        &args.cpus,
        &args.memory,
        &args.istio,
        &args.istio_profile,
        &args.cluster_profile,
    ];
    for ((id, flag, var), value) in FLAGS.iter().zip(values) {
        let Some(value) = value else { continue };
        let (layer, origin) = if env.has(id) {
            (&mut from_env, Origin::Env(var))
        } else {
            (&mut from_flags, Origin::Flag(flag))
        };
        let v = Some(Sourced::new(Scalar::Str(value.clone()), origin));
        match *id {
            "kubernetes" => layer.kubernetes = v,
            "cpus" => layer.cpus = v,
            "memory" => layer.memory = v,
            "istio" => layer.istio = v,
            "istio_profile" => layer.istio_profile = v,
            _ => layer.cluster_profile = v,
        }
    }
    for entry in &args.set {
        match scenario::set::parse_set(entry) {
            Ok((k, v)) => {
                // Two values for one path on one command line: which one was meant is a guess.
                if let Some(Sourced {
                    value: Scalar::Str(before),
                    ..
                }) = from_flags.set.get(&k)
                    && *before != v
                {
                    err.push(
                        Problem::new(
                            "--set",
                            format!(
                                "`{k}` is given twice with different values (`{before}`, then `{v}`); accepted: one value per path"
                            ),
                        )
                        .from_origin(&Origin::Flag("--set")),
                    );
                    continue;
                }
                from_flags
                    .set
                    .insert(k, Sourced::new(Scalar::Str(v), Origin::Flag("--set")));
            }
            Err(why) => err.push(
                Problem::new(
                    "--set",
                    format!("`{entry}` {why}; accepted: {}", scenario::set::SET_ACCEPTED),
                )
                .from_origin(&Origin::Flag("--set")),
            ),
        }
    }
    (from_env, from_flags)
}

/// True when the command line and environment name no scenario setting but (maybe) the
/// profile: `meshup start` or `meshup start -p NAME` alone.
pub fn names_only_the_profile(args: &ScenarioArgs) -> bool {
    args.file.is_none()
        && args.kubernetes.is_none()
        && args.cpus.is_none()
        && args.memory.is_none()
        && args.istio.is_none()
        && args.istio_profile.is_none()
        && args.set.is_empty()
}

/// The settings an existing profile was created with, from meshup's record of it, as a layer:
/// what `meshup start -p NAME` alone resumes it with. `None` when meshup did not create it.
pub fn recorded_layer(state: &crate::state::ProfileState) -> Option<Layer> {
    let record = state.record().ok()?;
    if !state.exists() || !record.created_by_meshup {
        return None;
    }
    let origin = Origin::File(state.dir().join("state.json"));
    let field = |key: &str| {
        record.scenario[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| Sourced::new(Scalar::Str(s.to_string()), origin.clone()))
    };
    let mut layer = Layer {
        kubernetes: field("kubernetes"),
        istio: field("istio"),
        cpus: field("cpus"),
        memory: field("memory"),
        driver: field("driver"),
        ..Layer::default()
    };
    // The mesh as it was installed: its profile and overrides (the JWT policy was decided for
    // that cluster, so it is decided again, not pinned).
    if let Ok(Some((mesh, _))) = crate::mesh::record::load(state) {
        let origin = Origin::File(crate::mesh::record::dir(state).join("record.json"));
        layer.istio_profile = Some(Sourced::new(Scalar::Str(mesh.profile), origin.clone()));
        for (k, v) in mesh.set {
            layer
                .set
                .insert(k, Sourced::new(Scalar::Str(v), origin.clone()));
        }
    }
    layer.kubernetes.is_some().then_some(layer)
}
