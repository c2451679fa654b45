//! What every fake needs: the world it runs in, its knobs, flag parsing, small host helpers.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::control_client::ControlClient;
use crate::knobs::Knobs;

/// The world this fake runs in (`$MESHUP_SIM_DIR`) and what the test asked of it.
pub struct Env {
    pub dir: Option<PathBuf>,
    pub knobs: Knobs,
    /// The emulated release, from `MESHUP_SIM_VERSION` (a wrapper) or the knobs.
    pub version_override: Option<String>,
}

impl Env {
    pub fn load(version_override: Option<String>) -> Result<Env, String> {
        let dir = std::env::var_os("MESHUP_SIM_DIR").map(PathBuf::from);
        let knobs = match &dir {
            Some(d) => load_knobs(d)?,
            None => Knobs::default(),
        };
        Ok(Env {
            dir,
            knobs,
            version_override: version_override.filter(|v| !v.is_empty()),
        })
    }

    pub fn control(&self) -> Result<ControlClient, String> {
        let dir = self
            .dir
            .as_ref()
            .ok_or("MESHUP_SIM_DIR is not set: this fake runs only inside a simulated world")?;
        ControlClient::from_world_dir(dir).map_err(|e| e.to_string())
    }

    /// A file under the world dir that stands for host state (routes, ...).
    pub fn host_file(&self, name: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?.join("host");
        std::fs::create_dir_all(&dir).ok()?;
        Some(dir.join(name))
    }
}

pub fn load_knobs(dir: &Path) -> Result<Knobs, String> {
    match std::fs::read_to_string(dir.join("knobs.yaml")) {
        Ok(text) if text.trim().is_empty() => Ok(Knobs::default()),
        Ok(text) => serde_yaml::from_str(&text).map_err(|e| format!("knobs.yaml: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Knobs::default()),
        Err(e) => Err(format!("knobs.yaml: {e}")),
    }
}

/// Writes `path` through a temporary file in the same directory and a rename, so a reader (or
/// a test polling for the file) sees the old content or the new, never a torn one, even if
/// the writer is killed half-way. The temporary name carries the pid: two fakes may write the
/// same file at once.
pub fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub fn sleep_ms(ms: u64) {
    if ms > 0 {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stdin_is_tty() -> bool {
    std::io::stdin().is_terminal()
}

/// Can this process prompt on a terminal (as sudo does, on `/dev/tty`)?
pub fn has_controlling_tty() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

/// `which`: the first executable `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

pub fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Random bytes as hex (uuids, ids, commits) from the kernel, without a crate for it.
pub fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .is_err()
    {
        let seed = std::process::id() as u128
            ^ chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u128;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    hex::encode(buf)
}

pub fn uuid4() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Command-line flags the way cobra reads them: `--name=value`, `--name value`, `-n value`,
/// `-n=value`, bools as `--force` or `--force=false`, `--` ends the flags.
#[derive(Debug, Default, Clone)]
pub struct Args {
    pub positional: Vec<String>,
    pub flags: Vec<(String, String)>,
}

pub struct FlagSpec<'a> {
    pub bools: &'a [&'a str],
    pub values: &'a [&'a str],
    /// Accept flags not listed (a `--x` followed by a non-flag takes it as its value).
    pub allow_unknown: bool,
}

impl Args {
    /// `Err(flag)` names an unknown flag or a value flag without a value.
    pub fn parse(argv: &[String], spec: &FlagSpec) -> Result<Args, String> {
        let mut out = Args::default();
        let mut i = 0;
        while i < argv.len() {
            let a = &argv[i];
            i += 1;
            if a == "--" {
                out.positional.extend(argv[i..].iter().cloned());
                break;
            }
            if !a.starts_with('-') || a == "-" {
                out.positional.push(a.clone());
                continue;
            }
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (a.clone(), None),
            };
            let is_bool = spec.bools.contains(&name.as_str());
            let is_value = spec.values.contains(&name.as_str());
            if is_bool {
                out.flags
                    .push((name, inline.unwrap_or_else(|| "true".into())));
            } else if is_value || spec.allow_unknown {
                match inline {
                    Some(v) => out.flags.push((name, v)),
                    None if is_value => {
                        let v = argv
                            .get(i)
                            .ok_or_else(|| format!("flag needs an argument: {name}"))?;
                        i += 1;
                        out.flags.push((name, v.clone()));
                    }
                    None => match argv.get(i) {
                        Some(v) if !v.starts_with('-') => {
                            i += 1;
                            out.flags.push((name, v.clone()));
                        }
                        _ => out.flags.push((name, "true".into())),
                    },
                }
            } else {
                return Err(format!("unknown flag: {name}"));
            }
        }
        Ok(out)
    }

    /// The last value of any of these names.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, names: &[&str]) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn is_set(&self, names: &[&str]) -> bool {
        self.get(names).is_some()
    }

    pub fn bool(&self, names: &[&str]) -> bool {
        self.get(names).is_some_and(|v| v != "false")
    }
}

/// Versions like `v1.15.10`, `1.5.0`, `v1.22.4-rc.0` as comparable numbers (pre-releases sort
/// before their release).
pub fn parse_version(v: &str) -> Option<(u64, u64, u64, bool)> {
    let v = v.trim().trim_start_matches('v');
    let (core, pre) = match v.split_once('-') {
        Some((c, _)) => (c, true),
        None => (v, false),
    };
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = match it.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    Some((major, minor, patch, pre))
}

pub fn version_key(v: &str) -> (u64, u64, u64, u8) {
    match parse_version(v) {
        Some((a, b, c, pre)) => (a, b, c, if pre { 0 } else { 1 }),
        None => (0, 0, 0, 0),
    }
}

/// Go durations (`300s`, `5m`, `1m30s`, `500ms`); a bare number is seconds.
pub fn parse_duration(s: &str) -> Duration {
    let re = regex::Regex::new(r"(\d+(?:\.\d+)?)(ms|s|m|h)").expect("static regex");
    let mut total = 0.0;
    for c in re.captures_iter(s) {
        let n: f64 = c[1].parse().unwrap_or(0.0);
        total += match &c[2] {
            "ms" => n / 1000.0,
            "s" => n,
            "m" => n * 60.0,
            _ => n * 3600.0,
        };
    }
    if total == 0.0 {
        total = s.parse().unwrap_or(30.0);
    }
    Duration::from_secs_f64(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_flags_like_cobra() {
        let spec = FlagSpec {
            bools: &["--force"],
            values: &["-p", "--profile", "--memory"],
            allow_unknown: false,
        };
        let a = Args::parse(
            &s(&["start", "-p", "x", "--memory=8gb", "--force", "rest"]),
            &spec,
        )
        .unwrap();
        assert_eq!(a.positional, s(&["start", "rest"]));
        assert_eq!(a.get(&["-p", "--profile"]), Some("x"));
        assert_eq!(a.get(&["--memory"]), Some("8gb"));
        assert!(a.bool(&["--force"]));
        assert_eq!(
            Args::parse(&s(&["--nope"]), &spec).unwrap_err(),
            "unknown flag: --nope"
        );
        assert!(Args::parse(&s(&["-p"]), &spec).is_err());
    }

    #[test]
    fn orders_versions() {
        assert!(version_key("v1.15.10") < version_key("v1.16.0"));
        assert!(version_key("v1.22.4-rc.0") < version_key("v1.22.4"));
        assert_eq!(parse_version("1.15"), Some((1, 15, 0, false)));
        assert_eq!(parse_version("x"), None);
    }
}
