//! Command-line definitions only (clap derive); behaviour lives in `commands/`.

use std::path::PathBuf;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};

/// The exit-code table (DESIGN.md "Contracts"), shown in `meshup --help`.
pub const EXIT_CODES: &str = "\
Exit codes:
  0        success
  1        differences found (manifest diff, profile diff)
  2        usage or bad input (nothing was started)
  3        preflight failed (host, versions, compatibility)
  4        tools: download, checksum, lock mismatch
  5        cluster stage failed (minikube's reason and exit code in the message)
  6        tunnel failed
  7        mesh install failed
  8        verification failed
  9        the global timeout expired
  10       the profile is locked by another meshup
  11       no such profile (status, stop)
  70       internal error: a bug in meshup (shown with its cause chain; please report it)
  130/143  interrupted by SIGINT / SIGTERM

Environment: MESHUP_LOG (log filter, e.g. debug), NO_COLOR, CI=true (implies --ci).
Docs: docs/scenarios.md (every scenario field), docs/exit-codes.md.";

/// One command from nothing to a local Kubernetes cluster with a verified Istio mesh.
#[derive(Debug, Parser)]
#[command(name = "meshup", version, after_long_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Every command's help ends with this: the one exit-code table is in `meshup --help`.
pub const EXIT_POINTER: &str = "Exit codes: 0 ok, 2 bad input, 3 preflight, 4 tools, 5 cluster, 6 tunnel, 7 mesh, 8 verify, \
9 timeout, 10 locked, 11 no profile, 130/143 signals; `meshup --help` or docs/exit-codes.md has the table.";

/// Flags every command takes, shown under their own heading in each command's help.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More output (-v: info logs, -vv: debug, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors and results.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// Output format: human text, or JSON (one document; JSON lines for long-running commands).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, env = "MESHUP_OUTPUT")]
    pub output: OutputFormat,

    /// No prompts and no spinners (implied by CI=true). Does not change the output format.
    #[arg(long, global = true)]
    pub ci: bool,

    /// No progress spinners (logs and results still print).
    #[arg(long, global = true, env = "MESHUP_NO_PROGRESS", value_parser = FalseyValueParser::new())]
    pub no_progress: bool,

    /// Answer yes to every question (upgrades, downloads).
    #[arg(short = 'y', long, global = true, env = "MESHUP_YES", value_parser = FalseyValueParser::new())]
    pub yes: bool,
}

pub use crate::report::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring up the scenario's cluster (tunnel, Istio and checks come next; --dry-run shows all).
    #[command(after_help = EXIT_POINTER)]
    Start(StartArgs),
    /// Show what `start` would do: versions, tools, findings, stages and command lines.
    #[command(after_help = EXIT_POINTER)]
    Plan(PlanArgs),
    /// Check this host against a scenario: tools, versions, cgroups, CPUs, memory.
    #[command(after_help = EXIT_POINTER)]
    Doctor(ScenarioArgs),
    /// Scenario files.
    #[command(subcommand)]
    #[command(after_help = EXIT_POINTER)]
    Scenario(ScenarioCommand),
    /// Show a profile: state, Kubernetes version, CPUs, memory, IP, kube context, meshup's record.
    #[command(after_help = EXIT_POINTER)]
    Status(ProfileArgs),
    /// Stop a profile's cluster (`minikube stop`); `meshup start` brings it back.
    #[command(after_help = EXIT_POINTER)]
    Stop(ProfileArgs),
    /// Delete a profile's cluster (`minikube delete`) and meshup's state for it; keeps diagnostics.
    #[command(after_help = EXIT_POINTER)]
    Down(DownArgs),
    /// Prove a profile's mesh works: control plane, gateways, LoadBalancer address, an injected
    /// smoke workload and a request routed through the gateway; exit 8 when a check fails.
    #[command(after_help = EXIT_POINTER)]
    Verify(VerifyArgs),
    /// Expand a matrix of scenarios (versions × sizes) and show their plans.
    #[command(after_help = EXIT_POINTER)]
    Matrix(MatrixArgs),
    /// meshup's own minikube, istioctl and kubectl: list, install, prune (docs/tools.md).
    #[command(after_help = EXIT_POINTER)]
    Tools(crate::commands::tools::ToolsArgs),
    /// Keep `minikube tunnel` running in the background (LoadBalancer addresses); logs, stop.
    #[command(after_help = EXIT_POINTER)]
    Tunnel(crate::commands::tunnel::TunnelArgs),
    /// Pin the scenario's tools (version, URL, sha256) in meshup.lock, next to the scenario.
    #[command(after_help = EXIT_POINTER)]
    Lock(crate::commands::lock::LockArgs),
    /// Istio's rendered manifest: `manifest diff` shows what overrides change.
    #[command(subcommand, after_help = EXIT_POINTER)]
    Manifest(crate::commands::manifest::ManifestCommand),
    /// Istio's profiles for the scenario's Istio version: list, dump, diff.
    #[command(subcommand, after_help = EXIT_POINTER)]
    Istio(crate::commands::istio::IstioCommand),
    /// Print shell completions.
    #[command(after_help = EXIT_POINTER)]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,

    /// Print the plan and run nothing (only read-only version queries).
    #[arg(long)]
    pub dry_run: bool,

    /// Use exactly the tools pinned in meshup.lock; exit 4 if anything differs (implied by
    /// --ci when a lock exists).
    #[arg(long)]
    pub locked: bool,

    #[arg(long, env = "MESHUP_OFFLINE", value_parser = FalseyValueParser::new(), help = OFFLINE_HELP)]
    pub offline: bool,

    /// Delete and recreate the profile when it differs in ways minikube cannot change in place.
    #[arg(long)]
    pub recreate: bool,

    /// Remove and reinstall the mesh when its Istio version cannot be changed in place (a
    /// downgrade, a jump of several minors); only what meshup's record says it installed.
    #[arg(long)]
    pub recreate_mesh: bool,

    /// Write the profile's kubeconfig into its state dir instead of ~/.kube/config and print the
    /// export line.
    #[arg(long)]
    pub isolated_kubeconfig: bool,

    /// Limit for the whole run, e.g. 20m (overrides the scenario's timeouts.total); when it
    /// expires every stage is stopped and meshup exits 9.
    #[arg(long, env = "MESHUP_TIMEOUT", value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Write a JUnit XML report here: a test case per stage and per verify check.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Keep the tunnel attached to this terminal after the run, until Ctrl-C (which stops it;
    /// a second Ctrl-C at once), instead of leaving it in the background.
    #[arg(long)]
    pub foreground: bool,
}

/// `--offline`, the same for `start`, `start --dry-run` and `plan` (they agree).
const OFFLINE_HELP: &str = "Download nothing: use only tools on PATH or in meshup's cache. When a \
tool would have to be fetched, the plan says so and exits like the start would: 3 when it is \
minikube (with the Kubernetes versions yours starts), 4 for istioctl or kubectl";

/// `meshup plan`: the scenario, and whether downloads are allowed.
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,

    #[arg(long, env = "MESHUP_OFFLINE", value_parser = FalseyValueParser::new(), help = OFFLINE_HELP)]
    pub offline: bool,
}

/// Which profile a command acts on: `-p`, else the scenario's (`-f`), else `meshup`.
#[derive(Debug, Args, Clone, Default)]
pub struct ProfileArgs {
    /// Scenario file (YAML, kind: Scenario) naming the profile.
    #[arg(short = 'f', long = "file", env = "MESHUP_SCENARIO")]
    pub file: Option<PathBuf>,

    /// The minikube profile and kube context (a DNS label; never `minikube`).
    #[arg(
        short = 'p',
        long,
        env = "MESHUP_CLUSTER_PROFILE",
        allow_hyphen_values = true
    )]
    pub cluster_profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Leave the smoke namespace and its objects in place after a successful verify.
    #[arg(long)]
    pub keep_smoke: bool,

    /// Write the diagnostics bundle of a failure here (default: the diagnostics location,
    /// `$XDG_STATE_HOME/meshup/diagnostics/<profile>-<UTC timestamp>`).
    #[arg(long, value_name = "DIR")]
    pub diagnostics_dir: Option<PathBuf>,

    /// Pack the diagnostics bundle as a .tar.gz next to where the folder would be.
    #[arg(long)]
    pub diagnostics_archive: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Every profile meshup created (never one it did not). Cannot be combined with -p or -f
    /// (exit 2); $MESHUP_CLUSTER_PROFILE and $MESHUP_SCENARIO are ignored.
    #[arg(long)]
    pub all: bool,

    /// Delete the profile even though meshup has no record of creating it.
    #[arg(long)]
    pub force: bool,

    /// Remove only the mesh: exactly the objects meshup's record says it applied; the cluster
    /// stays.
    #[arg(long, conflicts_with = "all")]
    pub mesh_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Check a Scenario or Matrix file; exit 2 with every problem if it is not valid.
    #[command(after_help = EXIT_POINTER)]
    Validate {
        /// The file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// The Matrix file.
    pub file: PathBuf,

    /// Expand and plan every scenario without running anything.
    #[arg(long)]
    pub dry_run: bool,

    /// How many cells run at once: `auto` packs them onto this host by their CPUs and memory
    /// (never more than it has, keeping a reserve), or a number as a cap.
    #[arg(long, default_value = "auto", value_name = "auto|N")]
    pub parallel: String,

    /// Stop every running cell and start no other once one fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// Leave each cell's cluster up after its checks (default: `down` after each cell).
    #[arg(long)]
    pub keep: bool,

    /// Write a JUnit XML report here: a suite per cell, a case per stage and check.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Limit for each cell's run (overrides the scenario's timeouts.total).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Print the expanded cells for CI instead of running them: `github-matrix` is a GitHub
    /// Actions `strategy.matrix` (JSON).
    #[arg(long, value_name = "FORMAT", value_parser = ["github-matrix"])]
    pub emit: Option<String>,
}

/// What a run is described by; flags beat the environment, which beats the file.
#[derive(Debug, Args, Clone, Default)]
pub struct ScenarioArgs {
    /// Scenario file (YAML, kind: Scenario).
    #[arg(short = 'f', long = "file", env = "MESHUP_SCENARIO")]
    pub file: Option<PathBuf>,

    /// Kubernetes version: v1.15.10, 1.15.10, 1.15, stable or latest.
    #[arg(long = "k8s", env = "MESHUP_K8S")]
    pub kubernetes: Option<String>,

    /// CPUs for the cluster: an integer ≥ 2, or max.
    #[arg(long, env = "MESHUP_CPUS")]
    pub cpus: Option<String>,

    /// Memory for the cluster: 8192 (MB), 8g, 8gb, 8GiB, 8192mb, 7.5g or max.
    #[arg(long, env = "MESHUP_MEMORY")]
    pub memory: Option<String>,

    /// Istio version: 1.5.0, 1.5 (newest patch) or auto.
    #[arg(long, env = "MESHUP_ISTIO")]
    pub istio: Option<String>,

    /// Istio profile (default, demo, minimal, ...); same as --set profile=X.
    #[arg(long, env = "MESHUP_ISTIO_PROFILE")]
    pub istio_profile: Option<String>,

    /// istioctl value override, path=value (repeatable), passed as the exact string given.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,

    /// The minikube profile and kube context (a DNS label; never `minikube`).
    #[arg(
        short = 'p',
        long,
        env = "MESHUP_CLUSTER_PROFILE",
        allow_hyphen_values = true
    )]
    pub cluster_profile: Option<String>,
}

/// The scenario flags that decide which tools a run needs (`tools install`, `lock`): the
/// file and the two versions. Sizes, Istio profile and `--set` change no tool, so these
/// commands do not take them.
#[derive(Debug, Args, Clone, Default)]
pub struct ToolScenarioArgs {
    /// Scenario file (YAML, kind: Scenario).
    #[arg(short = 'f', long = "file", env = "MESHUP_SCENARIO")]
    pub file: Option<PathBuf>,

    /// Kubernetes version: v1.15.10, 1.15.10, 1.15, stable or latest.
    #[arg(long = "k8s", env = "MESHUP_K8S")]
    pub kubernetes: Option<String>,

    /// Istio version: 1.5.0, 1.5 (newest patch) or auto.
    #[arg(long, env = "MESHUP_ISTIO")]
    pub istio: Option<String>,
}

impl ToolScenarioArgs {
    pub fn to_scenario(&self) -> ScenarioArgs {
        ScenarioArgs {
            file: self.file.clone(),
            kubernetes: self.kubernetes.clone(),
            istio: self.istio.clone(),
            ..ScenarioArgs::default()
        }
    }
}
