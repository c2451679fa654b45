//! The onboarding wizard in a real terminal (tmux send-keys / capture-pane), with CI removed
//! from the environment: the defaults it offers make a cluster, and the scenario file it saves
//! reproduces that cluster exactly (a second `meshup start -f` changes nothing).

#[path = "common/cluster_world.rs"]
mod cluster_world;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/mirror.rs"]
mod mirror;

use std::process::Command;
use std::time::{Duration, Instant};

use cluster_world::*;
use meshup_sim::World;

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(world: &World, command: &str) -> Option<Tmux> {
        Tmux::start_with(world, command, &[])
    }

    fn start_with(world: &World, command: &str, extra: &[(&str, String)]) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            return None;
        }
        let session = format!("meshup-wizard-{}", world.id());
        let mut env: Vec<String> = world
            .env()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        env.push("TERM=xterm".into());
        // Nothing here may reach the network: any download goes to a closed loopback port.
        for var in [
            "MESHUP_MINIKUBE_MIRROR",
            "MESHUP_ISTIO_MIRROR",
            "MESHUP_KUBECTL_MIRROR",
        ] {
            match extra.iter().find(|(k, _)| *k == var) {
                Some((k, v)) => env.push(format!("{k}={v}")),
                None => env.push(format!("{var}=http://127.0.0.1:9")),
            }
        }
        let line = format!(
            "cd {} && env -i {} {command}; echo EXIT=$?; sleep 600",
            world.dir().display(),
            env.iter()
                .map(|e| shell_quote(e))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "160",
                "-y",
                "50",
                &line,
            ])
            .env_remove("CI")
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux new-session failed");
        Some(Tmux { session })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no `{text}` on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        Command::new("tmux").args(&args).status().unwrap();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn the_wizards_defaults_make_a_cluster_and_its_file_reproduces_it() {
    // minikube v1.24.0's stable Kubernetes is v1.22.3; the newest Istio for it is 1.16: the
    // host has both, so the wizard's defaults need no download.
    let world = seed_world_with(|k| k.istioctl.version = "1.16.7".into());
    let Some(tmux) = Tmux::start(&world, &format!("{} start", env!("CARGO_BIN_EXE_meshup"))) else {
        eprintln!("skipped: no tmux");
        return;
    };
    let screen = tmux.wait_for("Kubernetes version");
    assert!(screen.contains("minikube v1.24.0"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Istio version");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Istio profile");
    tmux.keys(&["Enter"]);
    tmux.wait_for("CPUs");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Memory (GB)");
    tmux.keys(&["Enter"]);
    tmux.wait_for("access logs as JSON");
    tmux.keys(&["Enter"]);
    tmux.wait_for("egress gateway");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Save these answers");
    tmux.keys(&["Enter"]);
    tmux.wait_for("File");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Start it?");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");

    let saved = world.dir().join("meshup-scenario.yaml");
    let text =
        std::fs::read_to_string(&saved).unwrap_or_else(|_| panic!("no scenario saved\n{screen}"));
    assert!(text.contains("kind: Scenario"), "{text}");
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
    // The saved file is the same cluster: a start from it finds nothing to change.
    let again = meshup(
        &world,
        &["start", "-f", saved.to_str().unwrap(), "--output", "json"],
    );
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(
        again.result()["summary"]["cluster"]["change"]["action"],
        "nothing",
        "{again}"
    );
    assert_eq!(minikube(&world, "start").len(), 1, "{}", calls_text(&world));
}

#[test]
fn a_question_during_start_is_seen_answered_and_not_timed() {
    // istioctl on PATH is another release: the preflight asks before fetching 1.5.0.
    let world = seed_world_with(|k| k.istioctl.version = "1.6.14".into());
    let mirror = mirror::Mirror::start();
    fixtures::publish_seed_tools(&mirror);
    let command = format!("{} start -f {SEED}", env!("CARGO_BIN_EXE_meshup"));
    let mirrors = [
        ("MESHUP_ISTIO_MIRROR", mirror.url("istio")),
        ("MESHUP_KUBECTL_MIRROR", mirror.url("kubectl")),
    ];
    let Some(tmux) = Tmux::start_with(&world, &command, &mirrors) else {
        eprintln!("skipped: no tmux");
        return;
    };
    let screen = tmux.wait_for("Download istioctl 1.5.0");
    assert!(
        screen.contains("the scenario needs exactly 1.5.0"),
        "{screen}"
    );
    // Answered after a while: the wait is the user's, not the stage's.
    std::thread::sleep(Duration::from_millis(1500));
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    let preflight = screen
        .lines()
        .find(|l| l.contains("[preflight] ok"))
        .unwrap_or_else(|| panic!("no preflight line\n{screen}"));
    let secs: f64 = preflight
        .rsplit('(')
        .next()
        .and_then(|t| t.trim_end_matches(')').trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no duration in `{preflight}`"));
    assert!(secs < 1.5, "the question's wait was counted: {preflight}");
}
