//! `grade completions SHELL` and `grade man`: generated from the argument definitions, so they
//! never drift from the parser.

use std::path::Path;

use clap::CommandFactory;

use super::Io;
use crate::cli::Cli;
use crate::error::{Error, Result};

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, io: &mut Io<'_>) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "grade", &mut buf);
    io.write(&String::from_utf8_lossy(&buf))?;
    Ok(0)
}

/// The manual page `grade(1)` in roff; with `dir`, also one page per subcommand
/// (`grade-batch.1`, …) written into that folder.
pub fn man(dir: Option<&Path>, io: &mut Io<'_>) -> Result<i32> {
    let cmd = Cli::command();
    let to_err = |path: &Path, e: std::io::Error| Error::io(path, e);
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| to_err(dir, e))?;
        clap_mangen::generate_to(cmd, dir).map_err(|e| to_err(dir, e))?;
        io.write(&format!("wrote the manual pages into {}\n", dir.display()))?;
        return Ok(0);
    }
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(|e| to_err(Path::new("<man page>"), e))?;
    io.write(&String::from_utf8_lossy(&buf))?;
    Ok(0)
}
