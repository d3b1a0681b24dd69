//! `holdfast`: runs the platform (`holdfast serve`) and is the operator CLI that talks to a
//! running deployment over its admin API.

#![forbid(unsafe_code)]

mod cli;
mod client;
mod commands;
mod serve;

use clap::Parser;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// objects on whichever worker thread runs it, and with glibc's `malloc` that was about a fifth
/// of the HTTP workers' time per autosave (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
