//! `grade rubrics`, `grade rubric show ID`, `grade rubric check FILE`.

use serde::Serialize;

use super::Io;
use crate::cli::{ListFormat, RubricCommand};
use crate::diag::{quote_list, UserError};
use crate::error::{Error, Result};
use crate::rubric::{Rubric, BUILTIN};

#[derive(Serialize)]
struct Listed {
    id: String,
    title: String,
    version: String,
    threshold: f64,
    items: usize,
    sha256: String,
}

fn builtins() -> Vec<Rubric> {
    BUILTIN.iter().filter_map(|(id, _)| Rubric::builtin(id)).collect()
}

pub fn list(format: ListFormat, io: &mut Io<'_>) -> Result<i32> {
    let rubrics = builtins();
    let s = match format {
        ListFormat::Json => {
            let list: Vec<Listed> = rubrics
                .iter()
                .map(|r| Listed {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    version: r.version.clone(),
                    threshold: r.threshold,
                    items: r.items().count(),
                    sha256: r.sha256.clone(),
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
            s.push('\n');
            s
        }
        ListFormat::Text => {
            let mut s = String::new();
            for r in &rubrics {
                s.push_str(&format!(
                    "{:<9} v{:<6} pass {:>3}%  {:>2} items  {}\n",
                    r.id,
                    r.version,
                    r.threshold,
                    r.items().count(),
                    r.title
                ));
            }
            s.push_str(
                "\n`grade rubric show <ID>` prints one; copy it and grade with `grade run --rubric FILE DIR`.\n",
            );
            s
        }
    };
    io.write(&s)?;
    Ok(0)
}

pub fn rubric(cmd: RubricCommand, io: &mut Io<'_>) -> Result<i32> {
    match cmd {
        RubricCommand::Show { id } => {
            let Some((_, src)) = BUILTIN.iter().find(|(k, _)| *k == id) else {
                let ids: Vec<&str> = BUILTIN.iter().map(|(k, _)| *k).collect();
                return Err(Error::input(
                    UserError::new(format!(
                        "no built-in rubric `{id}`{}",
                        crate::diag::suggestion_suffix(&id, ids.iter().copied())
                    ))
                    .with_help(format!("built-in rubrics: {}", quote_list(&ids))),
                ));
            };
            io.write(src)?;
            Ok(0)
        }
        RubricCommand::Check { file } => {
            let r = Rubric::from_path(&file)?;
            let weight: f64 = r.items().map(|(_, i)| i.weight).sum();
            let required = r.items().filter(|(_, i)| i.required).count();
            io.write(&format!(
                "{}: rubric `{}` v{} is valid: {} section(s), {} item(s) ({} required), total weight {}, pass {}%\n",
                file.display(),
                r.id,
                r.version,
                r.sections.len(),
                r.items().count(),
                required,
                crate::report::text::num(weight),
                crate::report::text::num(r.threshold)
            ))?;
            Ok(0)
        }
    }
}
