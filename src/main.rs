use std::io::IsTerminal;

use clap::Parser;
use grade::cli::Cli;
use grade::commands::{self, use_color, Io};
use grade::exit;

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
