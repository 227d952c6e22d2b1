//! The `govgraph` binary; everything lives in the library so tests run the same code.

fn main() -> std::process::ExitCode {
    govgraph::cli::main()
}
