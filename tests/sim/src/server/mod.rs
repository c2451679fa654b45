//! The world daemon (owned by the server helper; see CONTRACT.md).

pub fn main(_args: Vec<String>) -> i32 {
    eprintln!("meshup-sim: the world daemon is not built yet");
    1
}
