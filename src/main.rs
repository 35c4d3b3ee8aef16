//! The `redis-gitops` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

// The diff and the renderer allocate and free millions of small values
// (YAML and JSON trees): mimalloc does that markedly faster than glibc's
// allocator (see the benchmark in the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = redis_gitops::cli::Cli::parse();
    match redis_gitops::commands::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
