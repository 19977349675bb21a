//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "grade",
    version,
    about = "Assess and auto-grade Microservices Architect course submissions",
    long_about = "Grades a submission folder against a checkpoint rubric: static analysis of its \
manifest, OpenAPI specs and service graph (and, as they land, events, contracts, SLOs and live \
probes), then a scored report.\n\nExit codes: 0 passed, 1 below the threshold or a required item \
failed, 2 could not grade (usage, unreadable submission, invalid rubric), 3 grading incomplete.",
    after_help = "Examples:\n  grade phase1 ./submission\n  grade phase2 . --format json --markdown summary.md\n  grade run --rubric mine.toml ./submission\n  grade explain ARCH002"
)]
pub struct Cli {
    /// When to use colour: auto honours NO_COLOR and whether the output is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade with the built-in Phase 1 rubric (service design & decomposition, pass 85%).
    Phase1(GradeArgs),
    /// Grade with the built-in Phase 2 rubric (communication & events, pass 90%).
    Phase2(GradeArgs),
    /// Grade with the built-in Phase 3 rubric (distributed data, pass 90%).
    Phase3(GradeArgs),
    /// Grade with the built-in Phase 4 rubric (operations, pass 95%).
    Phase4(GradeArgs),
    /// Grade with the built-in capstone rubric (pass 95%).
    Capstone(GradeArgs),
    /// Grade with an instructor's rubric file.
    Run {
        /// The rubric TOML file.
        #[arg(long, value_name = "FILE")]
        rubric: PathBuf,
        #[command(flatten)]
        args: GradeArgs,
    },
    /// List every check.
    Checks {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Show a check's documentation and parameters.
    Explain {
        /// Check id (e.g. ARCH002) or name (e.g. sync-call-cycle).
        check: String,
    },
    /// List the built-in rubrics.
    Rubrics {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Show or validate rubrics.
    #[command(subcommand)]
    Rubric(RubricCommand),
    /// Draw the submission's services, calls, event flows and datastores.
    Graph {
        /// The submission folder.
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Scaffold a submission folder with a commented manifest.
    Init {
        /// Checkpoint the submission is for.
        #[arg(value_parser = ["phase1", "phase2", "phase3", "phase4", "capstone"])]
        checkpoint: String,
        /// Folder to create (may exist, but must not hold a submission.toml).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RubricCommand {
    /// Print a built-in rubric's TOML (copy it to make your own).
    Show {
        /// Built-in rubric id: phase1 .. phase4, capstone.
        id: String,
    },
    /// Validate a rubric file: checks exist, parameters are valid.
    Check { file: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct GradeArgs {
    /// The submission folder.
    pub dir: PathBuf,

    /// Report format written to standard output.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also write the Markdown report (PR comment, step summary) to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Also write the text report (without colour) to FILE.
    #[arg(long, value_name = "FILE")]
    pub text: Option<PathBuf>,

    /// Print nothing on standard output (use with the file options; the exit code still tells).
    #[arg(long, short)]
    pub quiet: bool,

    /// Only static analysis: live probes are skipped (reported as skipped items).
    #[arg(long)]
    pub static_only: bool,

    /// Add a `timing` object to the JSON report (runs are otherwise byte-identical).
    #[arg(long)]
    pub timings: bool,
}
