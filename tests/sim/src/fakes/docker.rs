//! The fake `docker`: `version` and `info`, with `--format` Go templates of the kind
//! minikube and preflight checks use (`{{json .}}`, `{{.Server.Version}}`, ...).

use serde_json::{Value, json};

use crate::fakes::common::{Args, Env, FlagSpec};

const NOT_RUNNING: &str = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";

fn info(env: &Env) -> Value {
    let d = &env.knobs.docker;
    json!({
        "ID": "6f0c2a9e-sim",
        "Containers": 1, "ContainersRunning": 1, "ContainersPaused": 0, "ContainersStopped": 0,
        "Images": 3,
        "Driver": "overlay2",
        "DockerRootDir": "/var/lib/docker",
        "MemoryLimit": true, "SwapLimit": true, "CpuCfsPeriod": true, "CpuCfsQuota": true,
        "CPUShares": true, "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": true,
        "Debug": false,
        "LoggingDriver": "json-file",
        "CgroupDriver": if d.cgroup_version == "1" { "cgroupfs" } else { "systemd" },
        "CgroupVersion": d.cgroup_version,
        "KernelVersion": "6.8.0-45-generic",
        "OperatingSystem": env.knobs.host.os,
        "OSVersion": env.knobs.host.os.split_whitespace().nth(1).unwrap_or(""),
        "OSType": "linux",
        "Architecture": "x86_64",
        "IndexServerAddress": "https://index.docker.io/v1/",
        "NCPU": d.ncpu,
        "MemTotal": d.mem_total_mb * 1024 * 1024,
        "Name": "sim-host",
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": d.server_version,
        "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns"],
        "Warnings": null,
        "ClientInfo": {"Debug": false, "Version": d.client_version, "Context": "default", "Plugins": [], "Warnings": null}
    })
}

fn version(env: &Env) -> Value {
    let d = &env.knobs.docker;
    json!({
        "Client": {"Platform": {"Name": "Docker Engine - Community"}, "Version": d.client_version, "ApiVersion": "1.51", "DefaultAPIVersion": "1.51", "GitCommit": "d8eb465", "GoVersion": "go1.24.7", "Os": "linux", "Arch": "amd64", "BuildTime": "Wed Sep  3 20:57:37 2025", "Context": "default"},
        "Server": {"Platform": {"Name": "Docker Engine - Community"}, "Version": d.server_version, "ApiVersion": "1.51", "MinAPIVersion": "1.24", "Os": "linux", "Arch": "amd64", "KernelVersion": "6.8.0-45-generic", "GitCommit": "249d679", "GoVersion": "go1.24.7", "BuildTime": "Wed Sep  3 20:57:37 2025"}
    })
}

fn lookup<'a>(root: &'a Value, path: &str) -> &'a Value {
    path.trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
        .fold(root, |v, key| &v[key])
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        other => other.to_string(),
    }
}

/// The Go-template subset: `{{json .X}}`, `{{.X.Y}}`, literal text.
pub fn render(template: &str, root: &Value) -> String {
    let re =
        regex::Regex::new(r"\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}").expect("static regex");
    re.replace_all(template, |c: &regex::Captures| {
        let v = lookup(root, &c[2]);
        if c.get(1).is_some() {
            v.to_string()
        } else {
            scalar(v)
        }
    })
    .into_owned()
}

pub fn run(env: &Env, argv: &[String]) -> i32 {
    let spec = FlagSpec {
        bools: &[],
        values: &["-f", "--format"],
        allow_unknown: true,
    };
    let args = match Args::parse(argv, &spec) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("unknown flag: {e}");
            return 125;
        }
    };
    let running = env.knobs.docker.running;
    let format = args.get(&["-f", "--format"]);
    match args.positional.first().map(String::as_str) {
        Some("version") => {
            let v = version(env);
            if !running {
                if let Some(f) = format {
                    let client_only = json!({"Client": v["Client"]});
                    println!("{}", render(f, &client_only));
                } else {
                    print!(
                        "Client: Docker Engine - Community\n Version:           {}\n API version:       1.51\n Go version:        go1.24.7\n OS/Arch:           linux/amd64\n Context:           default\n",
                        env.knobs.docker.client_version
                    );
                }
                eprintln!("{NOT_RUNNING}");
                return 1;
            }
            match format {
                Some(f) => println!("{}", render(f, &v)),
                None => print!(
                    "Client: Docker Engine - Community\n Version:           {}\n API version:       1.51\n OS/Arch:           linux/amd64\n Context:           default\n\nServer: Docker Engine - Community\n Engine:\n  Version:          {}\n  API version:      1.51 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n",
                    env.knobs.docker.client_version, env.knobs.docker.server_version
                ),
            }
            0
        }
        Some("info") | Some("system") => {
            if !running {
                if format.is_none() {
                    print!(
                        "Client: Docker Engine - Community\n Version:    {}\n Context:    default\n Debug Mode: false\n\nServer:\n",
                        env.knobs.docker.client_version
                    );
                    eprintln!("ERROR: {NOT_RUNNING}\nerrors pretty printing info");
                } else {
                    eprintln!("{NOT_RUNNING}");
                }
                return 1;
            }
            let i = info(env);
            match format {
                Some(f) => println!("{}", render(f, &i)),
                None => print!(
                    "Client: Docker Engine - Community\n Version:    {}\n Context:    default\n\nServer:\n Containers: 1\n Server Version: {}\n Storage Driver: overlay2\n Cgroup Driver: {}\n Cgroup Version: {}\n Kernel Version: 6.8.0-45-generic\n Operating System: {}\n OSType: linux\n Architecture: x86_64\n CPUs: {}\n Total Memory: {:.2}GiB\n Name: sim-host\n",
                    env.knobs.docker.client_version,
                    env.knobs.docker.server_version,
                    i["CgroupDriver"].as_str().unwrap_or(""),
                    env.knobs.docker.cgroup_version,
                    env.knobs.host.os,
                    env.knobs.docker.ncpu,
                    env.knobs.docker.mem_total_mb as f64 / 1024.0
                ),
            }
            0
        }
        Some("ps") | Some("container") | Some("network") | Some("volume") | Some("inspect") => {
            if !running {
                eprintln!("{NOT_RUNNING}");
                return 1;
            }
            0
        }
        Some(other) => {
            eprintln!(
                "docker: unknown command: docker {other}\n\nRun 'docker --help' for more information"
            );
            1
        }
        None => {
            println!("Usage:  docker [OPTIONS] COMMAND");
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_go_templates() {
        let v = json!({"Server": {"Os": "linux", "Version": "28.4.0", "Platform": {"Name": "X"}}, "NCPU": 4});
        assert_eq!(
            render(
                "{{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}",
                &v
            ),
            "linux-28.4.0:X"
        );
        assert_eq!(render("{{json .NCPU}}", &v), "4");
        assert_eq!(render("{{ json . }}", &v), v.to_string());
    }
}
