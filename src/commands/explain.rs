//! `grade explain CHECK`: a check's documentation and parameters; `grade explain evidence`:
//! the evidence rules, family by family.

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

/// The built-in evidence rules by what they prove, with their language and summary.
pub fn render_evidence() -> String {
    let rules = crate::evidence::rules::built_in();
    let mut s = String::from(
        "# Evidence rules\n\nWhat the evidence checks (ARCH012, DATA004, DATA006, EVT006, EVT009, OAS015) read in a submission's code and \
         configuration, as data rules (src/evidence/rules/). Code is parsed with tree-sitter; configuration and SQL \
         are matched line by line. Test code is not read. An instructor adds rules with `--evidence-rules DIR` \
         (TOML files of the same shape, each with examples that must match as they say).\n",
    );
    let mut proofs: Vec<crate::evidence::Proof> = rules.iter().map(|r| r.proves).collect();
    proofs.sort();
    proofs.dedup();
    for proof in proofs {
        s.push_str(&format!("\n## {}\n", proof.id()));
        for r in rules.iter().filter(|r| r.proves == proof) {
            s.push_str(&format!("- `{}` ({}): {}\n", r.id, r.language.name(), r.summary));
        }
    }
    s
}

pub fn run(key: &str, io: &mut Io<'_>) -> Result<i32> {
    if key.eq_ignore_ascii_case("evidence") {
        io.write(&render_evidence())?;
        return Ok(0);
    }
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
