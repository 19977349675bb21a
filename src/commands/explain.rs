//! `grade explain CHECK`: a check's documentation and parameters.

use super::Io;
use crate::checks::{self, Check};
use crate::diag::UserError;
use crate::error::{Error, Result};

/// The full documentation of a check, as Markdown-ish text.
pub fn render(check: &dyn Check) -> String {
    let i = check.info();
    let mut s = format!(
        "# {} {}\n\n{}\n\nArea: {} ({}). Kind: {:?}.\n\n",
        i.id,
        i.name,
        i.summary,
        i.area.prefix(),
        i.area.title(),
        i.kind
    );
    s.push_str(i.docs.trim());
    s.push_str("\n\n## Parameters\n");
    if i.params.is_empty() {
        s.push_str("None.\n");
    } else {
        let defaults = check.default_params();
        for p in i.params {
            let d = defaults
                .get(p.name)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "- `{}` ({}, default `{}`): {}\n",
                p.name, p.ty, d, p.description
            ));
        }
    }
    s
}

pub fn run(key: &str, io: &mut Io<'_>) -> Result<i32> {
    let Some(check) = checks::find(key) else {
        let help = match checks::suggest(key) {
            Some(s) => format!("did you mean `{s}`? `grade checks` lists every check"),
            None => "`grade checks` lists every check".to_string(),
        };
        return Err(Error::input(
            UserError::new(format!("unknown check `{key}`")).with_help(help),
        ));
    };
    io.write(&render(check))?;
    Ok(0)
}
