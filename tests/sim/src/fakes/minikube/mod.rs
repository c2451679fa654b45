//! The fake `minikube` (research/minikube.md): start, status, ip, stop, delete, profile list,
//! update-context, logs, version and tunnel, with the real messages and exit codes.

mod cmds;
pub mod profile;
mod provision;
pub mod release;
mod routes;
mod ssh;
pub mod start;
mod status;
mod tunnel;
pub mod ui;

use crate::fakes::common::{Args, Env, FlagSpec};
use release::Release;

const GLOBAL_BOOLS: &[&str] = &[
    "--alsologtostderr",
    "--logtostderr",
    "--skip-audit",
    "--short",
    "--all",
    "--purge",
    "--light",
    "-c",
    "--cleanup",
    "-h",
    "--help",
];
const GLOBAL_VALUES: &[&str] = &[
    "--bind-address",
    "--layout",
    "-f",
    "--format",
    "-l",
    "--node",
    "-w",
    "--watch",
    "--user",
];

pub fn run(env: &Env, argv: &[String]) -> i32 {
    let version = env
        .version_override
        .clone()
        .unwrap_or_else(|| env.knobs.minikube.version.clone());
    let rel = Release::new(&version);
    let mut bools: Vec<&str> = GLOBAL_BOOLS.to_vec();
    bools.extend(start::BOOL_FLAGS);
    let mut values: Vec<&str> = GLOBAL_VALUES.to_vec();
    values.extend(start::VALUE_FLAGS);
    let spec = FlagSpec {
        bools: &bools,
        values: &values,
        allow_unknown: false,
    };
    let args = match Args::parse(argv, &spec) {
        Ok(a) => a,
        Err(e) => {
            let cmd = argv
                .iter()
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_default();
            eprintln!("Error: {e}\nSee 'minikube {cmd} --help' for usage.");
            return 14;
        }
    };
    let profile = args
        .get(&["-p", "--profile"])
        .map(String::from)
        .or_else(|| {
            std::env::var("MINIKUBE_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
        })
        .or_else(cmds::configured_profile)
        .unwrap_or_else(|| "minikube".to_string());
    let sub: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    match sub.as_slice() {
        ["version", ..] => cmds::version(&rel, &args),
        ["start", ..] => start::run(env, &rel, &profile, &args),
        ["status", ..] => status::status(env, &rel, &profile, &args),
        ["ip", ..] => cmds::ip(env, &rel, &profile),
        ["stop", ..] => cmds::stop(env, &rel, &profile, &args),
        ["delete"] => cmds::delete(env, &rel, &profile, &args),
        ["delete", ..] => {
            eprintln!("\nX Exiting due to MK_USAGE: Usage: minikube delete");
            14
        }
        ["profile", "list", ..] => cmds::profile_list(env, &rel, &args),
        ["profile"] => {
            println!("{profile}");
            0
        }
        ["update-context", ..] => cmds::update_context(env, &rel, &profile),
        ["logs", ..] => cmds::logs(env, &rel, &profile),
        ["tunnel", ..] => tunnel::run(env, &rel, &profile, &args),
        [] => {
            println!(
                "minikube provisions and manages local Kubernetes clusters optimized for development workflows."
            );
            0
        }
        [other, ..] => {
            eprintln!(
                "Error: unknown command \"{other}\" for \"minikube\"\nRun 'minikube --help' for usage."
            );
            14
        }
    }
}
