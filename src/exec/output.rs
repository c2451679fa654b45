use std::fmt;

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

impl Status {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub(super) fn from_std(status: std::process::ExitStatus) -> Status {
        use std::os::unix::process::ExitStatusExt;
        Status {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exited with code {code}"),
            (None, Some(sig)) => match nix::sys::signal::Signal::try_from(sig) {
                Ok(s) => write!(f, "was killed by {}", s.as_str()),
                Err(_) => write!(f, "was killed by signal {sig}"),
            },
            (None, None) => f.write_str("ended without a status"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of a running child's output, without its line ending.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub stream: Stream,
    pub text: &'a str,
}

/// What a finished child printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: Status,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last `n` non-empty lines of stderr, or of stdout when stderr is empty: what a user
    /// needs to see of a failure.
    pub fn tail(&self, n: usize) -> Vec<&str> {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
    }
}
