//! meshup in a real terminal: a tmux session (send-keys, capture-pane) running one command in
//! the world's environment, CI removed, any download pointed at a closed loopback port.

#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

use meshup_sim::World;

pub struct Tmux {
    session: String,
}

impl Tmux {
    pub fn start(world: &World, command: &str) -> Option<Tmux> {
        Tmux::start_with(world, command, &[])
    }

    pub fn start_with(world: &World, command: &str, extra: &[(&str, String)]) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            return None;
        }
        let session = format!("meshup-tty-{}", world.id());
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

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-S", "-200", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn wait_for(&self, text: &str) -> String {
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

    pub fn keys(&self, keys: &[&str]) {
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
