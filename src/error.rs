//! The library's error type. Anything about user input is a [`UserError`] diagnostic.

use std::path::{Path, PathBuf};

use crate::diag::UserError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input (submission, manifest, rubric, arguments) is unusable; exit code 2.
    #[error("{0}")]
    Input(Box<UserError>),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl Error {
    pub fn input(e: UserError) -> Self {
        Error::Input(Box::new(e))
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The diagnostic to show for this error.
    pub fn to_diagnostic(&self) -> UserError {
        match self {
            Error::Input(e) => e.as_ref().clone(),
            Error::Io { path, source } => {
                let help = match source.kind() {
                    std::io::ErrorKind::NotFound => "check the path",
                    std::io::ErrorKind::PermissionDenied => "check the file's permissions",
                    _ => "check that the file is readable",
                };
                UserError::new(format!("{}: {source}", path.display())).with_help(help)
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
