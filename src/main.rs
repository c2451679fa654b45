fn main() {
    std::process::exit(meshup::error::ExitKind::Success as i32);
}
