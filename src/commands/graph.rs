//! `grade graph DIR --format dot|mermaid`: draw the submission's system.

use std::path::Path;

use super::Io;
use crate::cli::GraphFormat;
use crate::error::Result;
use crate::model::{render, SystemModel};
use crate::submission::Submission;

pub fn run(dir: &Path, format: GraphFormat, io: &mut Io<'_>) -> Result<i32> {
    let sub = Submission::load(dir)?;
    let model = SystemModel::build(&sub);
    let s = match format {
        GraphFormat::Dot => render::dot(&sub, &model),
        GraphFormat::Mermaid => render::mermaid(&sub, &model),
    };
    io.write(&s)?;
    Ok(0)
}
