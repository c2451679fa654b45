//! istioctl's cluster commands: `manifest apply` (1.5: through `kubectl apply` on PATH;
//! 1.6: same as install), `install` (1.6+: in-process, waits per component), `version`,
//! `verify-install`, `x precheck` — each with its era's output.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

use super::iop::{self, Istio, Settings};
use super::manifest::{self, Component, Rendered};
use crate::fakes::common::{Args, Env, parse_duration, which};
use crate::fakes::kube as k;

const ART: &str = "        |\\          \n        | \\         \n        |  \\        \n        |   \\       \n      /||    \\      \n     / ||     \\     \n    /  ||      \\    \n   /   ||       \\   \n  /    ||        \\  \n /     ||         \\ \n/______||__________\\\n____________________\n  \\__       _____/  \n     \\_____/        \n";

fn go_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

pub(super) async fn client(args: &Args) -> Result<Client, String> {
    k::client(args.get(&["-c", "--kubeconfig"]), args.get(&["--context"]))
        .await
        .map(|t| t.client)
}

pub(super) fn settings(
    istio: &Istio,
    args: &Args,
    warnings: &mut Vec<String>,
) -> Result<Settings, String> {
    let mut s = iop::build_from_args(istio, args, &[], warnings).map_err(|e| e.text())?;
    if let Some(r) = args.get(&["-r", "--revision"]) {
        s.revision = r.to_string();
    }
    Ok(s)
}

/// The confirmation (shared.go `Confirm`): EOF or anything but y/yes is "no".
fn confirm(istio: &Istio, s: &Settings, args: &Args) -> bool {
    if args.bool(&["-y", "--skip-confirmation"]) || args.bool(&["--dry-run"]) {
        return true;
    }
    let m = istio.minor;
    if m <= 7 && (args.is_set(&["-f", "--filename"]) || args.is_set(&["-s", "--set"])) {
        return true;
    }
    let comps: Vec<&str> = [
        (s.base, "Istio core"),
        (s.pilot, "Istiod"),
        (s.ingress, "Ingress gateways"),
        (s.egress, "Egress gateways"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n)
    .collect();
    let prompt = match m {
        0..=7 => "This will install the default Istio profile into the cluster. Proceed? (y/N)"
            .to_string(),
        8 => "This will install the Istio profile into the cluster. Proceed? (y/N)".to_string(),
        9..=18 => format!(
            "This will install the Istio {} {} profile with [{}] components into the cluster. Proceed? (y/N)",
            istio.version,
            s.profile,
            comps
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        19..=23 => {
            let list = match comps.len() {
                0 => String::new(),
                1 => comps[0].to_string(),
                n => format!("{}, and {}", comps[..n - 1].join(", "), comps[n - 1]),
            };
            format!(
                "This will install the Istio {} \"{}\" profile (with components: {list}) into the cluster. Proceed? (y/N)",
                istio.version, s.profile
            )
        }
        _ => format!(
            "This will install the Istio {} profile \"{}\" into the cluster. Proceed? (y/N)",
            istio.version, s.profile
        ),
    };
    let ok = super::answered_yes(&prompt);
    if !ok {
        if m == 5 {
            println!("Cancelled.");
        } else {
            eprintln!("Cancelled.");
        }
    }
    ok
}

pub(super) async fn deployment_ready(client: &Client, name: &str) -> bool {
    let api: Api<Deployment> = Api::namespaced(client.clone(), "istio-system");
    match api.get_opt(name).await {
        Ok(Some(d)) => {
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let st = d.status.unwrap_or_default();
            st.available_replicas.unwrap_or(0) >= want && st.ready_replicas.unwrap_or(0) >= want
        }
        _ => false,
    }
}

/// Waits for every Deployment of a component; the first one not ready on timeout.
async fn wait_ready(
    client: &Client,
    names: &[String],
    timeout: Duration,
    poll: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut pending = None;
        for n in names {
            if !deployment_ready(client, n).await {
                pending = Some(n.clone());
                break;
            }
        }
        match pending {
            None => return Ok(()),
            Some(n) if Instant::now() >= deadline => {
                return Err(format!("Deployment/istio-system/{n}"));
            }
            Some(_) => tokio::time::sleep(poll).await,
        }
    }
}

/// 1.5–1.21 detect the JWT policy from discovery unless the user set it.
async fn detect_jwt(istio: &Istio, client: &Client, s: &mut Settings) -> Result<(), String> {
    if istio.minor > 21 || s.jwt_policy_set {
        return Ok(());
    }
    let third = k::supports_third_party_jwt(client).await.map_err(|e| {
        format!("failed to determine JWT policy support. Use the --force flag to ignore this: {e}")
    })?;
    if !third {
        s.jwt_policy = "first-party-jwt".into();
        println!(
            "Detected that your cluster does not support third party JWT authentication. Falling back to less secure first party JWT. See https://istio.io/docs/ops/best-practices/security/#configure-third-party-service-account-tokens for details."
        );
        if istio.minor >= 10 {
            println!(
                "! Values.global.jwtPolicy is deprecated; use Values.global.jwtPolicy=third-party-jwt. See http://istio.io/latest/docs/ops/best-practices/security/#configure-third-party-service-account-tokens for more information instead"
            );
        }
    }
    Ok(())
}

pub fn install(env: &Env, istio: &Istio, args: &Args, manifest_apply: bool) -> i32 {
    let mut warnings = Vec::new();
    let mut s = match settings(istio, args, &mut warnings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    for w in &warnings {
        eprintln!("{w}");
    }
    if istio.minor >= 23 {
        eprint!("{ART}");
    }
    if !confirm(istio, &s, args) {
        return 1;
    }
    let timeout = parse_duration(args.get(&["--readiness-timeout"]).unwrap_or("300s"));
    let poll = Duration::from_millis(env.knobs.istioctl.poll_ms.max(10));
    k::runtime().block_on(async {
        let client = match client(args).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Error: failed to create Kubernetes client: {e}");
                return 1;
            }
        };
        if let Err(e) = detect_jwt(istio, &client, &mut s).await {
            eprintln!("Error: {e}");
            return 1;
        }
        let rendered = manifest::render(istio, &s);
        if args.bool(&["--dry-run"]) {
            return 0;
        }
        if istio.minor == 5 && manifest_apply {
            apply_1_5(args, &client, &rendered, timeout, poll).await
        } else {
            install_1_6(istio, args, &client, &s, &rendered, timeout, poll).await
        }
    })
}

/// 1.5: `kubectl apply` per component, Base then Pilot (always waited for), then the rest.
async fn apply_1_5(
    args: &Args,
    client: &Client,
    rendered: &[Rendered],
    timeout: Duration,
    poll: Duration,
) -> i32 {
    let kubectl = |r: &Rendered| -> Result<(), String> {
        let path =
            which("kubectl").ok_or("exec: \"kubectl\": executable file not found in $PATH")?;
        let mut cmd = Command::new(path);
        if let Some(kc) = args.get(&["-c", "--kubeconfig"]) {
            cmd.args(["--kubeconfig", kc]);
        }
        if let Some(ctx) = args.get(&["--context"]) {
            cmd.args(["--context", ctx]);
        }
        cmd.args([
            "apply",
            "-n",
            "istio-system",
            "--prune",
            "--selector",
            &format!("operator.istio.io/component={}", r.component.label()),
            "-f",
            "-",
        ]);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(manifest::to_yaml(&r.objects).as_bytes());
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "error running kubectl: exit status {}\n{}",
                out.status.code().unwrap_or(1),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let fail = |c: Component, e: &str| {
        println!("✘ Finished applying manifest for component {}.", c.label());
        println!(
            "Component {} install returned the following errors:\nError: {e}\n",
            c.label()
        );
        println!(
            "\n\n✘ Errors were logged during apply operation. Please check component installation logs above.\n"
        );
        eprintln!("Error: failed to apply manifests: errors were logged during apply operation");
        1
    };
    let (parents, children): (Vec<&Rendered>, Vec<&Rendered>) = rendered
        .iter()
        .partition(|r| matches!(r.component, Component::Base | Component::Pilot));
    for r in parents {
        println!(
            "- Applying manifest for component {}...",
            r.component.label()
        );
        if let Err(e) = kubectl(r) {
            return fail(r.component, &e);
        }
        println!(
            "✔ Finished applying manifest for component {}.",
            r.component.label()
        );
        if r.component == Component::Pilot {
            println!("Waiting for resources to become ready...");
            if let Err(what) = wait_ready(
                client,
                &manifest::deployments(r),
                Duration::from_secs(600),
                poll,
            )
            .await
            {
                println!(
                    "error installer Failed to wait for resource: resources not ready after 10m0s: timed out waiting for the condition\n{what}"
                );
                return fail(
                    r.component,
                    "resources not ready after 10m0s: timed out waiting for the condition",
                );
            }
        }
    }
    for r in &children {
        println!(
            "- Applying manifest for component {}...",
            r.component.label()
        );
    }
    for r in &children {
        if let Err(e) = kubectl(r) {
            return fail(r.component, &e);
        }
    }
    for r in &children {
        println!(
            "✔ Finished applying manifest for component {}.",
            r.component.label()
        );
    }
    if args.bool(&["-w", "--wait"]) {
        let all: Vec<String> = rendered.iter().flat_map(manifest::deployments).collect();
        if wait_ready(client, &all, timeout, poll).await.is_err()
            || !lb_ready(client, timeout, poll).await
        {
            println!(
                "\n\n✘ Errors were logged during apply operation. Please check component installation logs above.\n"
            );
            eprintln!(
                "Error: failed to apply manifests: errors were logged during apply operation"
            );
            return 1;
        }
    }
    println!("\n✔ Installation complete");
    0
}

/// 1.5's `--wait` also waits for LoadBalancer addresses (servicesReady).
async fn lb_ready(client: &Client, timeout: Duration, poll: Duration) -> bool {
    let api: Api<k8s_openapi::api::core::v1::Service> =
        Api::namespaced(client.clone(), "istio-system");
    let deadline = Instant::now() + timeout;
    loop {
        let ok = api.list(&ListParams::default()).await.is_ok_and(|l| {
            l.items.iter().all(|s| {
                s.spec.as_ref().and_then(|x| x.type_.as_deref()) != Some("LoadBalancer")
                    || s.status
                        .as_ref()
                        .and_then(|st| st.load_balancer.as_ref())
                        .and_then(|lb| lb.ingress.as_ref())
                        .is_some_and(|i| !i.is_empty())
            })
        });
        if ok {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(poll).await;
    }
}

async fn apply_objects(
    client: &Client,
    objects: &[Value],
    timeout: Duration,
) -> Result<(), String> {
    for o in objects {
        k::apply_one_waiting(client, o, "istio-system", timeout).await?;
    }
    Ok(())
}

async fn install_1_6(
    istio: &Istio,
    args: &Args,
    client: &Client,
    s: &Settings,
    rendered: &[Rendered],
    timeout: Duration,
    poll: Duration,
) -> i32 {
    let ns_api: Api<Namespace> = Api::all(client.clone());
    if ns_api
        .get_opt("istio-system")
        .await
        .ok()
        .flatten()
        .is_none()
    {
        let ns =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}});
        if let Err(e) = k::apply_one(client, &ns, "").await {
            eprintln!("Error: failed to install manifests: {e}");
            return 1;
        }
    }
    let icon = |c: Component| {
        if istio.minor >= 23 {
            format!(" {}", c.icon())
        } else {
            String::new()
        }
    };
    for r in rendered {
        let name = r.component.user_name();
        let deps = manifest::deployments(r);
        match deps.first() {
            Some(d) => eprintln!(
                "- Processing resources for {name}. Waiting for Deployment/istio-system/{d}"
            ),
            None => eprintln!("- Processing resources for {name}."),
        }
        let result = match apply_objects(client, &r.objects, timeout).await {
            Ok(()) => wait_ready(client, &deps, timeout, poll).await.map_err(|what| {
                format!("failed to wait for resource: resources not ready after {}: timed out waiting for the condition\n{what}", go_duration(timeout))
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            eprintln!("✘ {name} encountered an error: {e}");
            eprintln!("Error: failed to install manifests: errors occurred during operation");
            return 1;
        }
        eprintln!("✔ {name} installed{}", icon(r.component));
    }
    if (6..=23).contains(&istio.minor) {
        let name = if s.revision.is_empty() {
            "installed-state".to_string()
        } else {
            format!("installed-state-{}", s.revision)
        };
        let spec = serde_json::to_value(&s.spec).unwrap_or_default();
        let iop = json!({"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": name, "namespace": "istio-system"}, "spec": spec});
        if let Err(e) = k::apply_one_waiting(client, &iop, "istio-system", timeout).await {
            eprintln!("Error: failed to save the installed state: {e}");
            return 1;
        }
    }
    eprintln!("✔ Installation complete");
    if s.revision.is_empty() {
        match istio.minor {
            10 | 12 => eprintln!(
                "Thank you for installing Istio 1.{}.  Please take a few minutes to tell us about your install/upgrade experience!  https://forms.gle/",
                istio.minor
            ),
            15..=17 => println!(
                "Thank you for installing Istio 1.{}.  Please take a few minutes to tell us about your install/upgrade experience!  https://forms.gle/",
                istio.minor
            ),
            _ => {}
        }
        match istio.minor {
            12..=18 => {
                eprintln!("Making this installation the default for injection and validation.")
            }
            19..=22 => {
                eprintln!("Made this installation the default for injection and validation.")
            }
            23 => eprintln!("Made this installation the default for cluster-wide operations."),
            _ => {}
        }
    }
    if args.bool(&["--verify"]) && (9..=23).contains(&istio.minor) {
        println!("\n\nVerifying installation:");
        return super::verify::verify_objects(istio, client, rendered).await;
    }
    0
}
