//! One module per subcommand: argument structs and the function that runs it.

pub mod lock;
pub mod tools;
