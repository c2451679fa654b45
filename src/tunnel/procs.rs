//! The process table, read from /proc (Linux; elsewhere these find nothing and the callers
//! fall back to what they know): who a pid is now, a profile's `ssh` forwards and tunnels.

/// argv of a live process (not a zombie).
pub fn cmdline(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if raw.is_empty() {
        return None; // a zombie or a kernel thread
    }
    Some(
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// (state, ppid, start time in clock ticks since boot) from /proc/PID/stat.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything: split after the last one.
    let (_, rest) = text.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let ppid = f.get(1)?.parse().ok()?;
    let start = f.get(19)?.parse().ok()?;
    Some((state, ppid, start))
}

/// When the process started (clock ticks since boot): with the pid, an identity that a
/// reused pid does not share.
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|(_, _, t)| t)
}

pub fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(s, _, _)| s != 'Z' && s != 'X')
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn program_is(argv: &[String], name: &str) -> bool {
    argv.first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == name)
}

/// minikube's home as minikube computes it (localpath.MiniPath): `$MINIKUBE_HOME` if it ends
/// in `.minikube`, else `$MINIKUBE_HOME/.minikube`, else `~/.minikube`.
fn mini_path(env: &dyn Fn(&str) -> Option<String>) -> Option<std::path::PathBuf> {
    match env("MINIKUBE_HOME").filter(|h| !h.is_empty()) {
        Some(h) if h.ends_with(".minikube") => Some(h.into()),
        Some(h) => Some(std::path::Path::new(&h).join(".minikube")),
        None => env("HOME").map(|h| std::path::Path::new(&h).join(".minikube")),
    }
}

/// Our minikube home (where its `profiles/` and `machines/` are).
pub fn our_mini_path() -> Option<std::path::PathBuf> {
    mini_path(&|k| std::env::var(k).ok())
}

/// Does this process use our minikube home (the same profiles)? Unknown counts as yes.
fn same_minikube(pid: u32) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return true;
    };
    let vars: Vec<(String, String)> = raw
        .split(|b| *b == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let theirs = mini_path(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()));
    theirs.is_none() || theirs == our_mini_path()
}

/// `ssh` forwards minikube's SSH mode started for `profile` (they name the profile's key,
/// `<minikube home>/machines/<profile>/id_rsa`), whoever their parent is now.
pub fn ssh_forwards(profile: &str) -> Vec<u32> {
    let key = match our_mini_path() {
        Some(home) => home
            .join("machines")
            .join(profile)
            .join("id_rsa")
            .display()
            .to_string(),
        None => format!("/machines/{profile}/id_rsa"),
    };
    pids()
        .into_iter()
        .filter(|p| {
            cmdline(*p).is_some_and(|a| {
                (program_is(&a, "ssh")
                    || program_is(&a, "sudo") && a.get(1).is_some_and(|s| s == "ssh"))
                    && a.iter().any(|x| x == "-N")
                    && a.iter().any(|x| x.ends_with(&key))
            })
        })
        .collect()
}

/// Is this argv `minikube tunnel` for `profile`?
pub fn is_tunnel_of(argv: &[String], profile: &str) -> bool {
    let tunnel = argv.iter().any(|a| a == "tunnel");
    let named = argv
        .windows(2)
        .any(|w| (w[0] == "-p" || w[0] == "--profile") && w[1] == profile)
        || argv
            .iter()
            .any(|a| a == &format!("--profile={profile}") || a == &format!("-p={profile}"));
    tunnel && named && argv.iter().any(|a| a.ends_with("minikube"))
}

/// `minikube tunnel -p <profile>` processes of our minikube home, except `but`.
pub fn tunnels(profile: &str, but: Option<u32>) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|p| Some(*p) != but)
        .filter(|p| cmdline(*p).is_some_and(|a| is_tunnel_of(&a, profile)))
        .filter(|p| same_minikube(*p))
        .collect()
}

/// Children of `parent` whose argv satisfies `f`.
pub fn children(parent: u32, f: impl Fn(&[String]) -> bool) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|p| stat(*p).is_some_and(|(_, pp, _)| pp == parent))
        .filter(|p| cmdline(*p).is_some_and(|a| f(&a)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn recognises_a_profiles_tunnel() {
        assert!(is_tunnel_of(&s(&["/x/minikube", "tunnel", "-p", "a"]), "a"));
        assert!(is_tunnel_of(
            &s(&["minikube", "--profile=a", "tunnel"]),
            "a"
        ));
        assert!(!is_tunnel_of(&s(&["minikube", "tunnel", "-p", "b"]), "a"));
        assert!(!is_tunnel_of(
            &s(&["meshup", "tunnel", "supervise", "-p", "a"]),
            "a"
        ));
    }

    #[test]
    fn this_process_is_alive_with_a_start_time() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(start_time(me).is_some());
        assert!(cmdline(me).is_some());
    }
}
