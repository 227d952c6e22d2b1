//! The `govgraph` binary; everything lives in the library so tests run the same code.

// A request allocates many small, short-lived values (parsed documents, SQL text, rows, JSON); mimalloc serves
// them from per-thread pages where the system allocator spends a fifth of the server's time (measured with the
// benchmark's home-screen query).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    govgraph::cli::main()
}
