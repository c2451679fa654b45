//! A tiny harness until the simulated world lands: recording shell-script fakes of minikube,
//! istioctl, kubectl and docker first (and alone) on PATH, each appending its argv to a log,
//! and a way to run the meshup binary against them with a clean environment.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub const TOOLS: &[&str] = &["minikube", "istioctl", "kubectl", "docker"];

pub struct Fakes {
    dir: TempDir,
    env: BTreeMap<String, String>,
}

impl Fakes {
    /// minikube v1.38.1, istioctl 1.30.5, kubectl v1.35.1, docker 27.3.1 on cgroup v1 with 8
    /// CPUs and 16 GiB: a host where the defaults work.
    pub fn new() -> Fakes {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("bin")).unwrap();
        fs::create_dir_all(dir.path().join("home")).unwrap();
        fs::write(dir.path().join("calls.log"), "").unwrap();
        fs::create_dir_all(dir.path().join("minikube-profiles")).unwrap();
        for tool in TOOLS {
            write_script(&dir.path().join("bin").join(tool), &script(tool));
        }
        Fakes {
            dir,
            env: BTreeMap::new(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Removes a fake, as if the tool were not installed.
    pub fn without(self, tool: &str) -> Fakes {
        fs::remove_file(self.bin().join(tool)).unwrap();
        self
    }

    /// Sets a knob read by the fakes: FAKE_MINIKUBE_VERSION, FAKE_ISTIOCTL_VERSION,
    /// FAKE_KUBECTL_VERSION, FAKE_DOCKER_CGROUP, FAKE_DOCKER_NCPU, FAKE_DOCKER_MEM, FAKE_DOCKER_DOWN.
    pub fn knob(mut self, key: &str, value: &str) -> Fakes {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Writes a file in the test's directory and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, text).unwrap();
        p
    }

    /// The meshup binary with only the fakes on PATH and no inherited environment (no CI,
    /// no MESHUP_*), run in the test directory.
    pub fn meshup(&self) -> Command {
        let mut cmd = Command::cargo_bin("meshup").expect("meshup binary");
        cmd.env_clear()
            .current_dir(self.dir.path())
            .env("PATH", self.bin())
            .env("HOME", self.dir.path().join("home"))
            .env("MESHUP_FAKE_LOG", self.dir.path().join("calls.log"))
            .env("FAKE_MK_DIR", self.dir.path().join("minikube-profiles"))
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `meshup <args>` (as [`Fakes::meshup`] sets it up) to its end.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.meshup().args(args).output().unwrap()
    }

    /// `meshup <args> <file>` to its end (a scenario or matrix file as the last argument).
    pub fn run_with_file(&self, args: &[&str], file: &Path) -> std::process::Output {
        self.meshup().args(args).arg(file).output().unwrap()
    }

    /// A minikube profile the fake minikube knows, in `Running` or `Stopped` state (4 CPUs,
    /// 8192 MB, Kubernetes v1.15.10, docker).
    pub fn minikube_profile(&self, name: &str, state: &str) {
        fs::write(
            self.dir.path().join("minikube-profiles").join(name),
            format!("{state}\n"),
        )
        .unwrap();
    }

    /// The fake minikube's profile state (`Deleted` once `minikube delete` ran).
    pub fn minikube_state(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.path().join("minikube-profiles").join(name))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Every external program meshup ran, one `tool args...` line each.
    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn write_script(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Only shell builtins: PATH holds nothing but the fakes.
fn script(tool: &str) -> String {
    let body = match tool {
        "minikube" => {
            r#"case "$1" in
  version) printf '{"commit":"fake","minikubeVersion":"%s"}\n' "${FAKE_MINIKUBE_VERSION:-v1.38.1}" ;;
  status)
    f="$FAKE_MK_DIR/$3"; st=Nonexistent
    if [ -f "$f" ]; then read -r st < "$f"; fi
    [ "$st" = Deleted ] && st=Nonexistent
    printf '{"Name":"%s","Host":"%s","Kubelet":"%s","APIServer":"%s","Kubeconfig":"Configured","Worker":false}\n' "$3" "$st" "$st" "$st"
    case "$st" in Running) exit 0 ;; Nonexistent) exit 85 ;; *) exit 7 ;; esac ;;
  profile)
    printf '{"invalid":[],"valid":['; sep=''
    for f in "$FAKE_MK_DIR"/*; do
      [ -f "$f" ] || continue; read -r st < "$f"; [ "$st" = Deleted ] && continue
      n="${f##*/}"
      printf '%s{"Name":"%s","Status":"%s","Config":{"Name":"%s","Memory":8192,"CPUs":4,"Driver":"docker","KubernetesConfig":{"KubernetesVersion":"v1.15.10","ServiceCIDR":"10.96.0.0/12"},"Nodes":[{"IP":"192.168.49.2","ControlPlane":true}]}}' "$sep" "$n" "$st" "$n"
      sep=','
    done
    printf ']}\n' ;;
  ip) printf '192.168.49.2\n' ;;
  stop) printf 'Stopped\n' > "$FAKE_MK_DIR/$3"; printf '  Stopping node "%s"  ...\n' "$3" ;;
  delete) [ -f "$FAKE_MK_DIR/$3" ] && printf 'Deleted\n' > "$FAKE_MK_DIR/$3"; printf '  Removed all traces of the "%s" cluster.\n' "$3" ;;
  *) printf 'fake minikube: %s is not faked here\n' "$1" >&2; exit 64 ;;
esac"#
        }
        "istioctl" => {
            r#"case "$1" in
  version) printf '{"clientVersion":{"version":"%s","revision":"fake","golang_version":"go1.24","status":"Clean","tag":"%s"}}\n' "${FAKE_ISTIOCTL_VERSION:-1.30.5}" "${FAKE_ISTIOCTL_VERSION:-1.30.5}" ;;
  *) printf 'fake istioctl: %s is not faked here\n' "$1" >&2; exit 64 ;;
esac"#
        }
        "kubectl" => {
            r#"case "$1" in
  version) printf '{"clientVersion":{"major":"1","gitVersion":"%s"}}\n' "${FAKE_KUBECTL_VERSION:-v1.35.1}" ;;
  *) printf 'fake kubectl: %s is not faked here\n' "$1" >&2; exit 64 ;;
esac"#
        }
        _ => {
            r#"case "$1" in
  info)
    if [ -n "$FAKE_DOCKER_DOWN" ]; then
      printf 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' >&2
      exit 1
    fi
    printf '{"ServerVersion":"27.3.1","CgroupVersion":"%s","NCPU":%s,"MemTotal":%s}\n' "${FAKE_DOCKER_CGROUP:-1}" "${FAKE_DOCKER_NCPU:-8}" "${FAKE_DOCKER_MEM:-17179869184}" ;;
  *) printf 'fake docker: %s is not faked here\n' "$1" >&2; exit 64 ;;
esac"#
        }
    };
    format!("#!/bin/sh\nprintf '%s\\n' \"{tool} $*\" >> \"$MESHUP_FAKE_LOG\"\n{body}\n")
}

/// stdout of a finished command.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
