use std::io::IsTerminal;

use clap::Parser;
use grade::cli::Cli;
use grade::commands::{self, use_color, Io};
use grade::exit;

/// mimalloc (its v2 line: v3 kept 50 % more memory at peak here): loading and checking a large
/// description makes millions of small allocations, and glibc's allocator spent about a fifth
/// of the CPU time on them (benches/oas-large.py: 20-40 % less CPU, less peak memory).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let color_choice = cli.color;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut io = Io::new(&mut out, use_color(color_choice, std::io::stdout().is_terminal()));
    let code = match commands::run(cli, &mut io) {
        Ok(code) => code,
        Err(e) => {
            let color = use_color(color_choice, std::io::stderr().is_terminal());
            eprint!("{}", grade::diag::render(&e.to_diagnostic(), color));
            exit::CANNOT_GRADE
        }
    };
    std::process::exit(code);
}
