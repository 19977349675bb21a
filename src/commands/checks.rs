//! `grade checks`: the registry as a table or JSON.

use serde::Serialize;

use super::Io;
use crate::checks::{registry, CheckInfo};
use crate::cli::ListFormat;
use crate::error::Result;

#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    info: &'static CheckInfo,
    defaults: toml::Table,
}

pub fn run(format: ListFormat, io: &mut Io<'_>) -> Result<i32> {
    let s = match format {
        ListFormat::Json => {
            let list: Vec<Listed> = registry()
                .iter()
                .map(|c| Listed {
                    info: c.info(),
                    defaults: c.default_params(),
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
            s.push('\n');
            s
        }
        ListFormat::Text => {
            let w = registry().iter().map(|c| c.info().name.len()).max().unwrap_or(10);
            let mut s = String::new();
            for c in registry() {
                let i = c.info();
                s.push_str(&format!(
                    "{:<8} {:<w$}  {:<6}  {}\n",
                    i.id,
                    i.name,
                    i.area.prefix(),
                    i.summary
                ));
            }
            s.push_str(&format!(
                "\n{} checks. `grade explain <ID>` shows a check's documentation.\n",
                registry().len()
            ));
            s
        }
    };
    io.write(&s)?;
    Ok(0)
}
