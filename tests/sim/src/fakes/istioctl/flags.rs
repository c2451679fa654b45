//! Which flags each istioctl command takes in each era. cobra rejects any other with
//! `Error: unknown flag: --x` (`unknown shorthand flag: 'w' in -w`) and exit 1, so a flag
//! meshup passes to the wrong release fails here as it does for real.
//!
//! Install flags: research/istio.md §1.1 (`addManifestApplyFlags` / `addInstallFlags` at each
//! tag): 1.5 `manifest apply` has no `-r/--revision`, `--verify` or `-d`; `-w/--wait` exists in
//! 1.5–1.6 only; `-d/--charts` from 1.6, `--manifests` from 1.7 (`--charts` kept, deprecated);
//! `--verify` from 1.9. `-c/--kubeconfig`, `--context` are accepted in every era (on the
//! command up to 1.19, global from 1.20), and so are istioctl's root flags.

use super::iop::Istio;
use crate::fakes::common::Args;

/// Root (persistent) flags of every command. 1.5 had `--dry-run` there too (§1.1).
const ROOT: &[&str] = &[
    "-c",
    "--kubeconfig",
    "--context",
    "-i",
    "--istioNamespace",
    "-n",
    "--namespace",
    "--vklog",
    "--log_output_level",
    "-h",
    "--help",
];

/// The flags `cmd` (its positional words, e.g. `["manifest", "apply"]`) takes in `istio`.
pub fn allowed(istio: &Istio, cmd: &[&str]) -> Vec<&'static str> {
    let m = istio.minor;
    let mut f: Vec<&'static str> = ROOT.to_vec();
    if m == 5 {
        f.push("--dry-run");
    }
    let install_like = matches!(
        cmd,
        ["install", ..] | ["apply", ..] | ["manifest", "apply" | "install", ..]
    );
    if install_like {
        f.extend([
            "-f",
            "--filename",
            "-s",
            "--set",
            "-y",
            "--skip-confirmation",
            "--force",
            "--readiness-timeout",
            "--dry-run",
        ]);
        if m <= 6 {
            f.extend(["-w", "--wait"]);
        }
        if m >= 6 {
            f.extend(["-r", "--revision", "-d", "--charts"]);
        }
        if m >= 7 {
            f.push("--manifests");
        }
        if m >= 9 {
            f.push("--verify");
        }
        return f;
    }
    match cmd {
        ["manifest", "generate", ..] => {
            f.extend([
                "-f",
                "--filename",
                "-s",
                "--set",
                "--force",
                "-o",
                "--output",
            ]);
            if m >= 6 {
                f.extend(["-r", "--revision", "-d", "--charts"]);
            }
            if m >= 7 {
                f.push("--manifests");
            }
            if m >= 16 {
                f.push("--cluster-specific");
            }
        }
        ["manifest", "diff", ..] => {
            f.extend([
                "-r",
                "--directory",
                "--select",
                "--ignore",
                "--rename",
                "--verbose",
            ]);
        }
        ["profile", sub, ..] => {
            if m >= 6 {
                f.extend(["-d", "--charts"]);
            }
            if m >= 7 {
                f.push("--manifests");
            }
            if *sub == "dump" {
                f.extend([
                    "-f",
                    "--filename",
                    "-s",
                    "--set",
                    "--force",
                    "--config-path",
                    "-o",
                    "--output",
                ]);
            }
        }
        ["version", ..] => {
            f.extend(["--short", "-o", "--output", "--remote"]);
            if m >= 6 {
                f.extend(["-r", "--revision"]);
            }
        }
        ["uninstall", ..] | ["x" | "experimental", "uninstall", ..] => {
            f.extend([
                "--purge",
                "-f",
                "--filename",
                "-s",
                "--set",
                "-r",
                "--revision",
                "-y",
                "--skip-confirmation",
                "--force",
                "--dry-run",
            ]);
        }
        ["verify-install", ..] => {
            f.extend(["-f", "--filename", "-r", "--revision"]);
            if m >= 6 {
                f.extend(["-d", "--manifests"]);
            }
        }
        ["x" | "experimental", "precheck", ..] => {
            f.extend(["-f", "--filename", "-r", "--revision", "-o", "--output"]);
            if m >= 10 {
                f.extend([
                    "--skip-controlplane",
                    "--output-threshold",
                    "--from-version",
                ]);
            }
        }
        _ => {}
    }
    f
}

/// cobra's message for the first flag `cmd` does not take, if any.
pub fn check(istio: &Istio, cmd: &[&str], args: &Args) -> Result<(), String> {
    let ok = allowed(istio, cmd);
    match args.flags.iter().find(|(n, _)| !ok.contains(&n.as_str())) {
        None => Ok(()),
        Some((n, _)) if n.starts_with("--") => Err(format!("unknown flag: {n}")),
        Some((n, _)) => Err(format!(
            "unknown shorthand flag: '{}' in {n}",
            n.trim_start_matches('-')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::common::FlagSpec;

    fn parse(argv: &[&str]) -> Args {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        Args::parse(
            &argv,
            &FlagSpec {
                bools: &["-y", "-w", "--verify", "--wait"],
                values: &["-r", "--revision", "-d", "--set"],
                allow_unknown: false,
            },
        )
        .unwrap()
    }

    #[test]
    fn install_flags_by_era() {
        let i15 = Istio::new("1.5.0");
        let apply = ["manifest", "apply"];
        assert_eq!(
            check(&i15, &apply, &parse(&["-y", "--revision", "x"])),
            Err("unknown flag: --revision".into())
        );
        assert_eq!(
            check(&i15, &apply, &parse(&["-d", "/tmp"])),
            Err("unknown shorthand flag: 'd' in -d".into())
        );
        assert!(check(&i15, &apply, &parse(&["-y", "-w"])).is_ok());
        let i120 = Istio::new("1.20.0");
        assert_eq!(
            check(&i120, &["install"], &parse(&["-w"])),
            Err("unknown shorthand flag: 'w' in -w".into())
        );
        assert!(check(&i120, &["install"], &parse(&["-y", "--verify", "-r", "x"])).is_ok());
        assert_eq!(
            check(&Istio::new("1.8.0"), &["install"], &parse(&["--verify"])),
            Err("unknown flag: --verify".into())
        );
    }
}
