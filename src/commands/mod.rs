//! One file per subcommand. Each returns the process exit code or a typed error; `main` maps
//! errors to diagnostics and exit code 2.

pub mod batch;
pub mod checks;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod grade;
pub mod graph;
pub mod init;
pub mod merge;
pub mod rubrics;

use std::io::Write;

use crate::cli::{Cli, ColorChoice, Command};
use crate::error::{Error, Result};
use crate::rubric::Rubric;

/// Where commands write, and whether standard output wants colour.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub color: bool,
}

impl<'a> Io<'a> {
    pub fn new(out: &'a mut dyn Write, color: bool) -> Self {
        Io { out, color }
    }

    /// Writes to standard output. A closed pipe (`grade ... | head`) is not an error: the
    /// rest of the output is dropped quietly and the exit code still reports the grade.
    pub fn write(&mut self, s: &str) -> Result<()> {
        match self.out.write_all(s.as_bytes()).and_then(|_| self.out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(Error::io(std::path::Path::new("<stdout>"), e)),
        }
    }
}

/// Whether to colour a stream, given the user's choice and whether it is a terminal.
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

pub fn run(cli: Cli, io: &mut Io<'_>) -> Result<i32> {
    match cli.command {
        Command::Phase1(a) => grade::builtin("phase1", a, io),
        Command::Phase2(a) => grade::builtin("phase2", a, io),
        Command::Phase3(a) => grade::builtin("phase3", a, io),
        Command::Phase4(a) => grade::builtin("phase4", a, io),
        Command::Capstone(a) => grade::builtin("capstone", a, io),
        Command::Run { rubric, args } => {
            let rubric = Rubric::from_path(&rubric)?;
            grade::with_rubric(&rubric, args, io)
        }
        Command::Checks { format } => checks::run(format, io),
        Command::Explain { check } => explain::run(&check, io),
        Command::Rubrics { format } => rubrics::list(format, io),
        Command::Rubric(cmd) => rubrics::rubric(cmd, io),
        Command::Diff {
            old,
            new,
            format,
            fail_on,
        } => diff::run(&old, &new, format, fail_on, io),
        Command::Graph { dir, format } => graph::run(&dir, format, io),
        Command::Init { checkpoint, dir } => init::run(&checkpoint, &dir, io),
        Command::Batch(args) => batch::run(args, io),
        Command::Merge { dirs, out } => merge::run(&dirs, &out, io),
        Command::Completions { shell } => completions::completions(shell, io),
        Command::Man { dir } => completions::man(dir.as_deref(), io),
    }
}
