//! Running meshup on a pseudo-terminal, for what only happens on a terminal (colour, bars):
//! on the pipes of `Command::output` those are off whatever the code does.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` with stdout and stderr on one pseudo-terminal (stdin stays /dev/null, so nothing
/// prompts) and returns its exit code and everything it wrote there.
pub fn run_on_terminal(mut cmd: Command) -> (Option<i32>, String) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = std::fs::File::from(pty.slave);
    cmd.stdin(Stdio::null())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = cmd.spawn().expect("spawn on the terminal");
    // The Command holds its copies of the terminal's slave side: without dropping it, reading
    // the master would never see the end.
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match master.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => text.extend_from_slice(&chunk[..n]),
                // Linux: EIO once every slave side is closed.
                Err(_) => break,
            }
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command on the terminal did not end");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), reader.join().unwrap())
}
