//! `--set path=value`, like istioctl: `a.b.c=value`, `a.[name:x].b=value`, `a.b[0].c=value`.
//! Values are kept as the exact strings given (`tag=1.10` stays `1.10`): istioctl, not meshup,
//! decides their types.

use std::fmt;

pub const SET_ACCEPTED: &str = "`path=value` with a dotted path like values.global.proxy.accessLogFile=/dev/stdout or components.egressGateways.[name:istio-egressgateway].enabled=true";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    NoEquals,
    EmptyKey,
    BadPath(String),
}

impl fmt::Display for SetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::NoEquals => f.write_str("has no `=`"),
            SetError::EmptyKey => f.write_str("has an empty path before `=`"),
            SetError::BadPath(why) => f.write_str(why),
        }
    }
}

/// Splits `path=value` at the first `=` and checks the path.
pub fn parse_set(input: &str) -> Result<(String, String), SetError> {
    let (key, value) = input.split_once('=').ok_or(SetError::NoEquals)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(SetError::EmptyKey);
    }
    check_path(key)?;
    Ok((key.to_string(), value.to_string()))
}

/// A dotted path whose segments are names (`[A-Za-z0-9_-]`, optionally with `[index]`
/// suffixes) or istioctl's list selectors `[key:value]`.
pub fn check_path(path: &str) -> Result<(), SetError> {
    if path.is_empty() {
        return Err(SetError::EmptyKey);
    }
    for segment in split_segments(path)? {
        if segment.is_empty() {
            return Err(SetError::BadPath(format!("`{path}` has an empty segment")));
        }
        if let Some(inner) = segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            match inner.split_once(':') {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => continue,
                _ if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) => continue,
                _ => {
                    return Err(SetError::BadPath(format!(
                        "`{segment}` in `{path}` is not a list selector like [name:istio-egressgateway] or [0]"
                    )));
                }
            }
        }
        let name_end = segment.find('[').unwrap_or(segment.len());
        let (name, indexes) = segment.split_at(name_end);
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !name_ok || !indexes_ok(indexes) {
            return Err(SetError::BadPath(format!(
                "`{segment}` in `{path}` is not a path segment (letters, digits, `_`, `-`, optional [index])"
            )));
        }
    }
    Ok(())
}

fn indexes_ok(mut s: &str) -> bool {
    while !s.is_empty() {
        let Some(rest) = s.strip_prefix('[') else {
            return false;
        };
        let Some(end) = rest.find(']') else {
            return false;
        };
        let idx = &rest[..end];
        if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        s = &rest[end + 1..];
    }
    true
}

/// Splits at dots outside brackets.
fn split_segments(path: &str) -> Result<Vec<&str>, SetError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in path.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(SetError::BadPath(format!(
                "`{path}` has unbalanced brackets"
            )));
        }
    }
    if depth != 0 {
        return Err(SetError::BadPath(format!(
            "`{path}` has unbalanced brackets"
        )));
    }
    out.push(&path[start..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istioctl_forms() {
        assert_eq!(
            parse_set("values.global.proxy.accessLogFile=/dev/stdout"),
            Ok((
                "values.global.proxy.accessLogFile".into(),
                "/dev/stdout".into()
            ))
        );
        assert_eq!(
            parse_set("components.egressGateways.[name:istio-egressgateway].enabled=true")
                .unwrap()
                .1,
            "true"
        );
        assert!(parse_set("components.egressGateways[0].enabled=true").is_ok());
        assert_eq!(parse_set("tag=1.10").unwrap().1, "1.10");
        assert_eq!(parse_set("a=b=c").unwrap().1, "b=c");
        assert_eq!(parse_set("a=").unwrap().1, "");
    }

    #[test]
    fn rejections() {
        assert_eq!(parse_set("novalue"), Err(SetError::NoEquals));
        assert_eq!(parse_set("=x"), Err(SetError::EmptyKey));
        assert_eq!(parse_set(" =x"), Err(SetError::EmptyKey));
        for bad in [
            "a..b=1",
            "a.=1",
            ".a=1",
            "a.[name].b=1",
            "a.[x:].b=1",
            "a b=1",
            "a.[name:x=1",
            "a[x]=1",
        ] {
            assert!(matches!(parse_set(bad), Err(SetError::BadPath(_))), "{bad}");
        }
    }
}
