//! The fake `istioctl`, per emulated Istio version (research/istio.md): version, profile
//! list|dump|diff, manifest generate|diff|apply, install, verify-install, x precheck, with the
//! command set, value paths and output of each era.

mod flags;
mod gateways;
mod install;
pub mod iop;
pub mod manifest;
mod schema;
mod uninstall;
mod verify;
mod version;

use serde_json::json;

use crate::fakes::common::{Args, Env, FlagSpec};
use iop::Istio;

const BOOLS: &[&str] = &[
    "-y",
    "--skip-confirmation",
    "--verify",
    "--force",
    "-w",
    "--wait",
    "--dry-run",
    "--short",
    "--purge",
    "--cluster-specific",
    "--skip-controlplane",
    "--verbose",
    "-h",
    "--help",
];
const VALUES: &[&str] = &[
    "-c",
    "--kubeconfig",
    "--context",
    "-i",
    "--istioNamespace",
    "-f",
    "--filename",
    "-s",
    "--set",
    "-r",
    "--revision",
    "--readiness-timeout",
    "-d",
    "--charts",
    "--manifests",
    "-o",
    "--output",
    "--remote",
    "--config-path",
    "--vklog",
    "--log_output_level",
    "--select",
    "--ignore",
    "--rename",
    "-n",
    "--namespace",
    "--directory",
    "--output-threshold",
    "--from-version",
];

pub fn run(env: &Env, argv: &[String]) -> i32 {
    let version = env
        .version_override
        .clone()
        .unwrap_or_else(|| env.knobs.istioctl.version.clone());
    let istio = Istio::new(&version);
    let args = match Args::parse(
        argv,
        &FlagSpec {
            bools: BOOLS,
            values: VALUES,
            allow_unknown: false,
        },
    ) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let sub: Vec<&str> = args.positional.iter().map(String::as_str).collect();
    let m = istio.minor;
    // cobra parses a command's flags only once it found the command.
    if known(m, &sub)
        && let Err(e) = flags::check(&istio, &sub, &args)
    {
        eprintln!("Error: {e}");
        return 1;
    }
    let unknown = |cmd: &str, parent: &str| {
        eprintln!(
            "Error: unknown command \"{cmd}\" for \"{parent}\"\nRun '{parent} --help' for usage."
        );
        1
    };
    match sub.as_slice() {
        ["version", ..] => version::version(env, &istio, &args),
        ["profile", rest @ ..] if m <= 23 => profile(&istio, &args, rest),
        ["profile", ..] => unknown("profile", "istioctl"),
        ["manifest", "generate", ..] => generate(&istio, &args),
        ["manifest", "diff", a, b] if m <= 23 => manifest_diff(a, b),
        ["manifest", "apply", ..] if m <= 6 => install::install(env, &istio, &args, true),
        ["manifest", "install", ..] if m >= 7 => install::install(env, &istio, &args, false),
        ["manifest", cmd, ..] => unknown(cmd, "istioctl manifest"),
        ["install", ..] if m >= 6 => install::install(env, &istio, &args, false),
        ["apply", ..] if m >= 24 => install::install(env, &istio, &args, false),
        ["uninstall", ..] if m >= 15 => uninstall::uninstall(env, &istio, &args),
        ["x" | "experimental", "uninstall", ..] if m >= 7 => {
            uninstall::uninstall(env, &istio, &args)
        }
        ["verify-install", ..] if m <= 23 => verify::verify_install(env, &istio, &args),
        ["x", "precheck", ..] if m >= 6 => verify::precheck(env, &istio, &args),
        ["experimental" | "x", cmd, ..] => unknown(cmd, "istioctl experimental"),
        [] => {
            println!(
                "Istio configuration command line utility for service operators to\ndebug and diagnose their Istio mesh."
            );
            0
        }
        [cmd, ..] => unknown(cmd, "istioctl"),
    }
}

/// Whether `run` has this command in Istio 1.`m` (the guards of its dispatch).
fn known(m: u64, sub: &[&str]) -> bool {
    match sub {
        ["version", ..] => true,
        ["profile", ..] => m <= 23,
        ["manifest", "generate", ..] => true,
        ["manifest", "diff", ..] => m <= 23,
        ["manifest", "apply", ..] => m <= 6,
        ["manifest", "install", ..] => m >= 7,
        ["install", ..] => m >= 6,
        ["apply", ..] => m >= 24,
        ["uninstall", ..] => m >= 15,
        ["x" | "experimental", "uninstall", ..] => m >= 7,
        ["verify-install", ..] => m <= 23,
        ["x" | "experimental", "precheck", ..] => m >= 6,
        _ => false,
    }
}

fn profile(istio: &Istio, args: &Args, rest: &[&str]) -> i32 {
    match rest {
        ["list", ..] => {
            let mut names = istio.profiles();
            if istio.minor <= 7 {
                // Go map iteration: a different order on every run.
                let seed = crate::fakes::common::random_hex(8);
                names.sort_by_key(|n| {
                    let mut h = sha2_hex(&format!("{seed}{n}"));
                    h.truncate(8);
                    h
                });
            }
            println!("Istio configuration profiles:");
            for n in names {
                println!("    {n}");
            }
            0
        }
        ["dump", name @ ..] => {
            let name = name
                .first()
                .copied()
                .or(args
                    .get(&["--set", "-s"])
                    .and_then(|s| s.strip_prefix("profile=")))
                .unwrap_or("default");
            let mut warnings = Vec::new();
            let profile_set = [format!("profile={name}")];
            let s = match iop::build_from_args(istio, args, &profile_set, &mut warnings) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}", e.text());
                    return 1;
                }
            };
            let spec = iop::sorted(&s.spec);
            if let Some(path) = args.get(&["--config-path"]) {
                let mut cur = &spec;
                for p in path.split('.') {
                    cur = match cur.get(p) {
                        Some(v) => v,
                        None => {
                            eprintln!("Error: path {path}: element {p} not found");
                            return 1;
                        }
                    };
                }
                print!("{}", serde_yaml::to_string(cur).unwrap_or_default());
                return 0;
            }
            if args.get(&["-o", "--output"]) == Some("json") {
                let v = json!({"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "spec": serde_json::to_value(&spec).unwrap_or_default()});
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v)
                        .unwrap_or_default()
                        .replace("  ", "    ")
                );
            } else {
                print!("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n");
                for l in serde_yaml::to_string(&spec).unwrap_or_default().lines() {
                    println!("  {l}");
                }
            }
            0
        }
        ["diff", a, b] => {
            let dump = |n: &str| -> Result<String, String> {
                if let Some(spec) = iop::profile_spec(istio, n) {
                    return Ok(serde_yaml::to_string(&iop::sorted(&spec)).unwrap_or_default());
                }
                std::fs::read_to_string(n)
                    .map_err(|e| format!("could not read values from file {n}: {e}"))
            };
            let (x, y) = match (dump(a), dump(b)) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("Error: {e}");
                    return 1;
                }
            };
            if x == y {
                println!("Profiles are identical");
                return 0;
            }
            println!(
                "{}",
                if istio.minor == 5 {
                    "Difference of profiles:"
                } else {
                    "The difference between profiles:"
                }
            );
            print!("{}", line_diff(&x, &y));
            1
        }
        _ => {
            eprintln!(
                "Error: unknown command for \"istioctl profile\"\nRun 'istioctl profile --help' for usage."
            );
            1
        }
    }
}

/// A y/N answer read from stdin; EOF (no terminal) or anything else is a no, as in istioctl.
pub(super) fn answered_yes(prompt: &str) -> bool {
    use std::io::{BufRead, Write};
    print!("{prompt} ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .is_ok_and(|n| n > 0)
        && matches!(line.trim().to_lowercase().as_str(), "y" | "yes")
}

fn sha2_hex(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// A plain line diff (` `, `-`, `+`), enough to see what changed.
pub fn line_diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push_str(&format!(" {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        }
    }
    out
}

fn generate(istio: &Istio, args: &Args) -> i32 {
    let mut warnings = Vec::new();
    let mut s = match iop::build_from_args(istio, args, &[], &mut warnings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}", e.text());
            return 1;
        }
    };
    if let Some(r) = args.get(&["-r", "--revision"]) {
        s.revision = r.to_string();
    }
    for w in &warnings {
        eprintln!("{w}");
    }
    let objects: Vec<_> = manifest::render(istio, &s)
        .into_iter()
        .flat_map(|r| r.objects)
        .collect();
    print!("{}", manifest::to_yaml(&objects));
    0
}

fn manifest_diff(a: &str, b: &str) -> i32 {
    let read = |p: &str| std::fs::read_to_string(p).map_err(|e| format!("open {p}: {e}"));
    let (x, y) = match (read(a), read(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    let objs = |t: &str| -> Vec<(String, String)> {
        crate::fakes::kube::documents(t)
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                let key = format!(
                    "{}:{}:{}",
                    o["kind"].as_str().unwrap_or(""),
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                );
                (key, serde_yaml::to_string(&o).unwrap_or_default())
            })
            .collect()
    };
    let (xa, yb) = (objs(&x), objs(&y));
    let mut out = String::new();
    for (k, v) in &xa {
        match yb.iter().find(|(k2, _)| k2 == k) {
            None => out.push_str(&format!("\n\nObject {k} is missing in B:\n\n")),
            Some((_, v2)) if v2 != v => out.push_str(&format!(
                "\n\nObject {k} has diffs:\n\n{}",
                line_diff(v, v2)
            )),
            _ => {}
        }
    }
    for (k, _) in &yb {
        if !xa.iter().any(|(k2, _)| k2 == k) {
            out.push_str(&format!("\n\nObject {k} is missing in A:\n\n"));
        }
    }
    if out.is_empty() {
        println!("Manifests are identical");
        0
    } else {
        print!("Differences in manifests are:\n{out}");
        1
    }
}
