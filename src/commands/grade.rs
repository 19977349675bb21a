//! `grade phase1..capstone DIR` and `grade run --rubric FILE DIR`.

use std::path::{Path, PathBuf};

use super::Io;
use crate::cli::{GradeArgs, ReportFormat};
use crate::diag::UserError;
use crate::engine::{self, Options};
use crate::error::{Error, Result};
use crate::exit;
use crate::report::{github, gradebook, gradescope, html, json, junit, markdown, sarif, text, Report};
use crate::rubric::Rubric;
use crate::score::Verdict;
use crate::submission::Submission;

pub fn builtin(id: &str, args: GradeArgs, io: &mut Io<'_>) -> Result<i32> {
    let rubric = Rubric::builtin(id)
        .ok_or_else(|| Error::input(crate::diag::UserError::new(format!("no built-in rubric `{id}`"))))?;
    with_rubric(&rubric, args, io)
}

pub fn with_rubric(rubric: &Rubric, args: GradeArgs, io: &mut Io<'_>) -> Result<i32> {
    check_args(&args)?;
    let targets = probe_targets(&args)?;
    let trust = crate::probe::tls::Trust::with_ca_certs(&args.ca_certs).map_err(|e| {
        Error::input(UserError::new(format!("--ca-cert: {e}")).with_help(
            "give --ca-cert the certificate (PEM) of the authority that signed the service's certificate, e.g. \
             `$(mkcert -CAROOT)/rootCA.pem` for mkcert",
        ))
    })?;
    let sub = Submission::load_with(&args.dir, args.limits())?;
    for (name, _) in &targets {
        if !sub.services.iter().any(|s| s.name.name == *name) {
            let names = sub.services.iter().map(|s| s.name.name.as_str());
            let mut e = UserError::new(format!(
                "`--target {name}=...`: the submission declares no service `{name}`"
            ));
            if let Some(s) = crate::diag::did_you_mean(name, names) {
                e = e.with_help(format!("did you mean `{s}`?"));
            }
            return Err(Error::input(e));
        }
    }
    let evidence_rules = match &args.evidence_rules {
        Some(dir) => crate::evidence::load_rules(dir).map_err(|e| {
            Error::input(UserError::new(format!("--evidence-rules: {e}")).with_help(
                "each rule is a TOML file like those in src/evidence/rules/ (`grade explain evidence` lists them), \
                 with examples that match as they say",
            ))
        })?,
        None => Vec::new(),
    };
    let (progress, spinner) = progress(&args);
    let mut report = engine::grade(
        &sub,
        rubric,
        Options {
            static_only: args.static_only,
            timings: args.timings,
            probe: crate::probe::ProbeOptions {
                targets,
                allow_hosts: args.allow_hosts.clone(),
                trust,
                allow_unsafe_methods: args.allow_unsafe_methods,
                unsandboxed: args.unsandboxed,
                progress,
            },
            evidence_rules,
        },
    );
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    report.submission.ci_path = repo_relative(
        &args.dir,
        std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from).as_deref(),
        std::env::current_dir().ok().as_deref(),
    );
    emit(&report, &args, io)?;
    Ok(exit_code(&report))
}

/// How the stages of a live run are shown on stderr: nothing with `--quiet`; on a terminal a
/// spinner with the current stage and its elapsed time, each finished stage kept as a line;
/// elsewhere (CI logs) one line per finished stage.
fn progress(args: &GradeArgs) -> (crate::probe::Progress, Option<indicatif::ProgressBar>) {
    use crate::probe::{Progress, Stage};
    use std::io::IsTerminal;
    if args.quiet || args.static_only {
        return (Progress::default(), None);
    }
    if !std::io::stderr().is_terminal() {
        let p = Progress::new(|stage, what| {
            if stage == Stage::Ended {
                eprintln!("grade: {what}");
            }
        });
        return (p, None);
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {wide_msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let shown = bar.clone();
    let p = Progress::new(move |stage, what| match stage {
        Stage::Begins => {
            shown.reset_elapsed();
            shown.set_message(what.to_string());
            shown.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        Stage::Ended => shown.println(format!("  {what}")),
    });
    (p, Some(bar))
}

/// The submission folder `dir` (as given on the command line) relative to the repository
/// root, for the paths of GitHub annotations and SARIF results, which cannot be absolute:
/// relative to `workspace` (`$GITHUB_WORKSPACE`) when set and `dir` lies under it (a relative
/// `dir` is taken from `cwd`), else, for an absolute `dir`, relative to `cwd` when it lies
/// under it. `None` keeps the folder as given. Symlinks are compared resolved as well, so
/// `/home/runner/work/r/r` and its real path both match.
pub fn repo_relative(dir: &Path, workspace: Option<&Path>, cwd: Option<&Path>) -> Option<String> {
    let absolute = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd?.join(dir)
    };
    let under = |base: &Path| -> Option<String> {
        let rel = |d: &Path, b: &Path| {
            normalise(d)
                .strip_prefix(normalise(b))
                .ok()
                .map(|r| r.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/"))
        };
        rel(&absolute, base).or_else(|| rel(&absolute.canonicalize().ok()?, &base.canonicalize().ok()?))
    };
    if let Some(ws) = workspace.filter(|w| w.is_absolute()) {
        if let Some(r) = under(ws) {
            return Some(r);
        }
    }
    if dir.is_absolute() {
        return cwd.and_then(under);
    }
    None
}

/// `path` without `.` components and with `..` applied to the component before it.
fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The exit code for a finished report.
pub fn exit_code(report: &Report) -> i32 {
    match report.verdict {
        Verdict::Passed => exit::PASSED,
        Verdict::Failed => exit::FAILED,
        Verdict::Incomplete => exit::INCOMPLETE,
    }
}

/// The files `--report-dir` writes, with the emitter of each.
pub const REPORT_DIR_FILES: [(&str, Render); 9] = [
    ("report.txt", render_text_plain),
    ("report.json", json::render),
    ("report.md", markdown::render),
    ("junit.xml", junit::render),
    ("report.sarif", sarif::render),
    ("github.txt", github::render),
    ("results.json", gradescope::render),
    ("report.html", html::render),
    ("report.csv", gradebook::render),
];

type Render = fn(&Report) -> String;

fn render_text_plain(r: &Report) -> String {
    text::render(r, &text::TextOptions { color: false })
}

/// Refuses option combinations that would make standard output unusable.
fn check_args(args: &GradeArgs) -> Result<()> {
    if args.github && args.format == ReportFormat::Json && !args.quiet {
        return Err(Error::input(
            UserError::new("`--github` annotations cannot follow `--format json` on standard output").with_help(
                "write the JSON to a file with `--json FILE`, or add `--quiet` to print only the annotations",
            ),
        ));
    }
    Ok(())
}

/// Parses `--target NAME=URL`, refusing (before any packet is sent) hosts that are neither
/// loopback nor allowed with `--allow-host`.
fn probe_targets(args: &GradeArgs) -> Result<Vec<(String, String)>> {
    args.targets
        .iter()
        .map(|t| {
            crate::probe::parse_target(t, &args.allow_hosts).map_err(|e| {
                Error::input(UserError::new(e).with_help(
                    "point --target at a service on this machine (http://127.0.0.1:PORT or https://localhost:PORT), \
                     or allow its host with --allow-host",
                ))
            })
        })
        .collect()
}

/// Writes the files first (so a closed stdout loses nothing), then standard output: the
/// report in `--format` (unless `--quiet`), then the GitHub annotations (with `--github`,
/// even with `--quiet`), and with `--github` appends the Markdown report to
/// `$GITHUB_STEP_SUMMARY` when that is set.
fn emit(report: &Report, args: &GradeArgs, io: &mut Io<'_>) -> Result<()> {
    let files: [(&Option<PathBuf>, Render); 8] = [
        (&args.json, json::render),
        (&args.markdown, markdown::render),
        (&args.text, render_text_plain),
        (&args.junit, junit::render),
        (&args.sarif, sarif::render),
        (&args.gradescope, gradescope::render),
        (&args.html, html::render),
        (&args.csv, gradebook::render),
    ];
    for (path, render) in files {
        if let Some(path) = path {
            write_file(path, &render(report))?;
        }
    }
    if let Some(dir) = &args.report_dir {
        write_report_dir(report, dir)?;
    }
    if args.github {
        if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()) {
            append_file(Path::new(&summary), &markdown::render(report))?;
        }
    }
    if !args.quiet {
        let s = match args.format {
            ReportFormat::Text => text::render(report, &text::TextOptions { color: io.color }),
            ReportFormat::Json => json::render(report),
            ReportFormat::Markdown => markdown::render(report),
        };
        io.write(&s)?;
    }
    if args.github {
        io.write(&github::render(report))?;
    }
    Ok(())
}

/// Writes every format into `dir` under the fixed names of [`REPORT_DIR_FILES`].
pub fn write_report_dir(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (name, render) in REPORT_DIR_FILES {
        write_file(&dir.join(name), &render(report))?;
    }
    Ok(())
}

fn append_file(path: &Path, content: &str) -> Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(content.as_bytes()).map_err(|e| Error::io(path, e))
}

fn write_file(path: &Path, content: &str) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, content).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::repo_relative;
    use std::path::Path;

    fn rel(dir: &str, ws: Option<&str>, cwd: &str) -> Option<String> {
        repo_relative(Path::new(dir), ws.map(Path::new), Some(Path::new(cwd)))
    }

    #[test]
    fn absolute_folders_become_relative_to_the_workspace_or_the_working_directory() {
        let ws = Some("/home/runner/work/repo/repo");
        assert_eq!(rel("/home/runner/work/repo/repo/sub", ws, "/").as_deref(), Some("sub"));
        assert_eq!(
            rel("/home/runner/work/repo/repo/a/./b/../sub/", ws, "/").as_deref(),
            Some("a/sub")
        );
        assert_eq!(rel("/home/runner/work/repo/repo", ws, "/").as_deref(), Some(""));
        // A relative folder from a working directory inside the workspace.
        assert_eq!(rel(".", ws, "/home/runner/work/repo/repo/sub").as_deref(), Some("sub"));
        assert_eq!(
            rel("./x", ws, "/home/runner/work/repo/repo/sub").as_deref(),
            Some("sub/x")
        );
        // Outside the workspace: relative to the working directory when under it.
        assert_eq!(rel("/srv/repo/sub", ws, "/srv/repo").as_deref(), Some("sub"));
        // No workspace.
        assert_eq!(rel("/srv/repo/sub", None, "/srv/repo").as_deref(), Some("sub"));
        assert_eq!(rel("/srv/other", None, "/srv/repo"), None);
        assert_eq!(rel("sub", None, "/srv/repo"), None, "relative stays as given");
        assert_eq!(
            rel("/srv/repo/sub", Some("relative/ws"), "/srv/repo").as_deref(),
            Some("sub")
        );
    }
}
