//! The call log every fake appends to (CONTRACT.md, "Call log").
