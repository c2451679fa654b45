//! CPUs, memory and durations, parsed the way minikube and Kubernetes users write them.
//!
//! Memory follows minikube (`pkgutil.CalculateSizeInMB`, research/minikube.md §1): a bare number
//! is MB; otherwise docker/go-units `RAMInBytes`, binary units, regex
//! `(?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$`, so `8g`, `8gb`, `8 gb`, `8GiB`, `8192mb` are all
//! 8192 MB and `7.5g` is 7680. `max` is passed through to minikube.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

/// minikube refuses less than this without `--force` (RSRC_INSUFFICIENT_REQ_MEMORY, exit 23).
pub const MEMORY_FLOOR_MB: u64 = 1800;
/// minikube refuses fewer CPUs without `--force` (RSRC_INSUFFICIENT_CORES, exit 29).
pub const CPUS_FLOOR: u32 = 2;

pub const MEMORY_ACCEPTED: &str = "a number of MB (8192), a size with a binary unit (8g, 8gb, 8 gb, 8GiB, 8192mb, 7.5g) or `max`, at least 1800 MB";
pub const CPUS_ACCEPTED: &str = "an integer of at least 2, or `max`";
pub const DURATION_ACCEPTED: &str =
    "a duration like 90s, 5m, 1h30m or 500ms (units ms, s, m, h), greater than zero";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Memory {
    Mb(u64),
    Max,
}

impl Memory {
    /// The value as minikube's `--memory` takes it.
    pub fn minikube_arg(&self) -> String {
        match self {
            Memory::Mb(mb) => format!("{mb}mb"),
            Memory::Max => "max".to_string(),
        }
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.minikube_arg())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cpus {
    Count(u32),
    Max,
}

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cpus::Count(n) => write!(f, "{n}"),
            Cpus::Max => f.write_str("max"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// Not a value of this kind at all.
    Malformed,
    /// Well-formed, but below what minikube accepts.
    TooSmall,
    /// Well-formed, but absurdly large (overflow).
    TooLarge,
}

/// Parses a memory size into MB. Returns the MB before checking the floor, so callers can
/// report "1024 MB is below 1800 MB".
pub fn parse_memory(input: &str) -> Result<Memory, QuantityError> {
    let s = input.trim();
    if s.eq_ignore_ascii_case("max") {
        return Ok(Memory::Max);
    }
    let mb = parse_memory_mb(s)?;
    if mb < MEMORY_FLOOR_MB {
        return Err(QuantityError::TooSmall);
    }
    Ok(Memory::Mb(mb))
}

/// The size in MB without the floor check.
pub fn parse_memory_mb(s: &str) -> Result<u64, QuantityError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map_err(|_| QuantityError::TooLarge);
    }
    // docker/go-units `sizeRegex`, case-insensitive like RAMInBytes.
    static SIZE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$").expect("valid regex"));
    let caps = SIZE.captures(s).ok_or(QuantityError::Malformed)?;
    // The regex admits `1.2.3`; go-units then fails ParseFloat, and so do we.
    let value: f64 = caps[1].parse().map_err(|_| QuantityError::Malformed)?;
    let exponent = match caps.get(3).map(|m| m.as_str().to_ascii_lowercase()) {
        None => 0,
        Some(u) => match u.as_str() {
            "k" => 1,
            "m" => 2,
            "g" => 3,
            "t" => 4,
            _ => 5,
        },
    };
    let bytes = value * 1024f64.powi(exponent);
    if !bytes.is_finite() || bytes > (u64::MAX / 2) as f64 {
        return Err(QuantityError::TooLarge);
    }
    Ok((bytes as u64) / (1024 * 1024))
}

pub fn parse_cpus(input: &str) -> Result<Cpus, QuantityError> {
    let s = input.trim();
    if s.eq_ignore_ascii_case("max") {
        return Ok(Cpus::Max);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuantityError::Malformed);
    }
    let n: u32 = s.parse().map_err(|_| QuantityError::TooLarge)?;
    if n < CPUS_FLOOR {
        return Err(QuantityError::TooSmall);
    }
    Ok(Cpus::Count(n))
}

/// `90s`, `5m`, `1h30m`, `500ms`; a bare number is seconds.
pub fn parse_duration(input: &str) -> Result<Duration, QuantityError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(QuantityError::Malformed);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = s.parse().map_err(|_| QuantityError::TooLarge)?;
        return nonzero(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(QuantityError::Malformed);
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| QuantityError::TooLarge)?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.checked_mul(60).ok_or(QuantityError::TooLarge)?),
            "h" => Duration::from_secs(n.checked_mul(3600).ok_or(QuantityError::TooLarge)?),
            _ => return Err(QuantityError::Malformed),
        };
        total = total.checked_add(part).ok_or(QuantityError::TooLarge)?;
        rest = &rest[unit_len..];
    }
    nonzero(total)
}

fn nonzero(d: Duration) -> Result<Duration, QuantityError> {
    if d.is_zero() {
        Err(QuantityError::TooSmall)
    } else {
        Ok(d)
    }
}

/// Renders a duration the way it is written in scenarios (`5m`, `1h30m`, `750ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    for (unit, size) in [("h", 3600), ("m", 60)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if secs > 0 || out.is_empty() {
        out.push_str(&format!("{secs}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_forms_like_minikube() {
        for (input, mb) in [
            ("8192", 8192),
            ("8g", 8192),
            ("8gb", 8192),
            ("8 gb", 8192),
            ("8GiB", 8192),
            ("8G", 8192),
            ("8192mb", 8192),
            ("8192m", 8192),
            ("8192MB", 8192),
            ("7.5g", 7680),
            ("2048m", 2048),
            ("1t", 1024 * 1024),
        ] {
            assert_eq!(parse_memory(input), Ok(Memory::Mb(mb)), "{input}");
        }
        assert_eq!(parse_memory("MAX"), Ok(Memory::Max));
    }

    #[test]
    fn memory_rejections() {
        for bad in [
            "", "8gbx", "g", "8x", "-8g", "8..5g", ".5g", "8.g", "8  gb", "8gbb", "8bi", "1.2.3g",
        ] {
            assert_eq!(
                parse_memory_mb(bad),
                Err(QuantityError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(parse_memory("1024"), Err(QuantityError::TooSmall));
        assert_eq!(parse_memory("1g"), Err(QuantityError::TooSmall));
        assert_eq!(parse_memory("1800"), Ok(Memory::Mb(1800)));
    }

    #[test]
    fn cpus() {
        assert_eq!(parse_cpus("4"), Ok(Cpus::Count(4)));
        assert_eq!(parse_cpus("max"), Ok(Cpus::Max));
        assert_eq!(parse_cpus("1"), Err(QuantityError::TooSmall));
        assert_eq!(parse_cpus("0"), Err(QuantityError::TooSmall));
        assert_eq!(parse_cpus("2.5"), Err(QuantityError::Malformed));
        assert_eq!(parse_cpus("-4"), Err(QuantityError::Malformed));
        assert_eq!(parse_cpus("four"), Err(QuantityError::Malformed));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("0s"), Err(QuantityError::TooSmall));
        assert_eq!(parse_duration("5 m"), Err(QuantityError::Malformed));
        assert_eq!(parse_duration("m5"), Err(QuantityError::Malformed));
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(750)), "750ms");
    }
}
