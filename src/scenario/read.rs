//! Reading a scenario file safely: bounded in size (a FIFO or device cannot feed it unbounded
//! data), a UTF-8 byte-order mark accepted, and nesting too deep for a scenario rejected before
//! the YAML parser (whose time grows badly with nesting) sees it.

use std::io::Read;
use std::path::Path;

use super::error::{Problem, ScenarioError};

/// The largest scenario or matrix file meshup reads. The shipped ones are under 2 KB; anything
/// near this is not a scenario (or is an attack on the parser).
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// The deepest `[`/`{` nesting accepted. A scenario needs 2 (`exclude: [{...}]`).
pub const MAX_FLOW_DEPTH: usize = 32;

/// The file's text, or why it cannot be a scenario.
pub fn read(path: &Path) -> Result<String, ScenarioError> {
    let bytes = read_bounded(path)?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        problem(
            path,
            format!(
                "is not UTF-8 text (invalid byte at offset {}); accepted: a UTF-8 YAML file",
                e.valid_up_to()
            ),
        )
    })?;
    check_depth(path, text)?;
    Ok(text.to_string())
}

fn problem(path: &Path, message: String) -> ScenarioError {
    ScenarioError::one(Problem::new("-f", format!("{}: {message}", path.display())))
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, ScenarioError> {
    let cannot = |e: &std::io::Error| super::error::unreadable(path, e);
    let meta = std::fs::metadata(path).map_err(|e| cannot(&e))?;
    if meta.is_dir() {
        return Err(problem(
            path,
            "is a directory; accepted: a YAML file".to_string(),
        ));
    }
    // A FIFO blocks here until a writer comes (`-f <(...)`, or one written later); the signal
    // thread ends the process on Ctrl-C / SIGTERM meanwhile (tests/engine_run.rs).
    let file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(problem(
            path,
            format!(
                "is larger than {} KiB, the limit for a scenario file; accepted: a scenario or matrix of at most {MAX_FILE_BYTES} bytes",
                MAX_FILE_BYTES / 1024
            ),
        ));
    }
    Ok(bytes)
}

/// Rejects `[`/`{` nesting deeper than a scenario ever needs, outside quotes and comments.
/// libyaml's time grows with the square of the nesting (100k `[` took a minute).
fn check_depth(path: &Path, text: &str) -> Result<(), ScenarioError> {
    let mut depth = 0usize;
    let mut max = 0usize;
    let mut quote: Option<char> = None;
    let mut prev = '\n';
    let mut comment = false;
    for c in text.chars() {
        if comment {
            comment = c != '\n';
        } else if let Some(q) = quote {
            if c == q && !(q == '"' && prev == '\\') {
                quote = None;
            }
        } else {
            match c {
                '#' if prev.is_whitespace() => comment = true,
                '"' | '\'' if prev.is_whitespace() || "[{,:".contains(prev) => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        prev = c;
        if max > MAX_FLOW_DEPTH {
            return Err(problem(
                path,
                format!(
                    "nests `[` or `{{` more than {MAX_FLOW_DEPTH} levels deep; accepted: a scenario (which needs at most 2)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_flow_brackets_outside_quotes_and_comments() {
        let p = Path::new("s.yaml");
        assert!(check_depth(p, "a: [[1], {b: [2]}]\n").is_ok());
        assert!(check_depth(p, &format!("a: \"{}\"\n", "[".repeat(100))).is_ok());
        assert!(check_depth(p, &format!("# {}\n", "[".repeat(100))).is_ok());
        assert!(check_depth(p, "k: components.[name:x].enabled\n").is_ok());
        assert!(check_depth(p, &"[".repeat(33)).is_err());
        assert!(check_depth(p, &"{a: ".repeat(40)).is_err());
    }
}
