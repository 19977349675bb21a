//! Command-line arguments.

use std::path::PathBuf;

use crate::batch::cohort::LearnerId;
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
    after_help = "Examples:\n  grade phase1 ./submission\n  grade phase2 . --format json --markdown summary.md\n  grade phase2 . --github --junit junit.xml --sarif grade.sarif\n  grade run --rubric mine.toml ./submission\n  grade batch phase1 ./cohort --out results --jobs 4\n  grade explain ARCH002"
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
        /// Check id (e.g. ARCH002) or name (e.g. sync-call-cycle), or `evidence` for the
        /// rules that read code and configuration.
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
    /// Compare two versions of an OpenAPI description: breaking, possibly breaking and compatible changes (docs/diff.md).
    Diff {
        /// The previous version (OpenAPI 3.0/3.1, YAML or JSON).
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: crate::evo::render::DiffFormat,
        /// Exit 1 on breaking changes only (default), or on possibly breaking ones too.
        #[arg(long, value_enum, default_value = "breaking")]
        fail_on: crate::evo::render::FailOn,
    },
    /// Draw the submission's services, calls, event flows and datastores.
    Graph {
        /// The submission folder.
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Grade every submission folder of a cohort: per-learner reports, gradebook, statistics.
    #[command(
        long_about = "Grades every subfolder of COHORT_DIR (one submission each) in parallel, each in its own \
grade process with a deadline, and writes OUT/learners/<learner>/ (every report format), OUT/gradebook.csv, \
OUT/stats.json and OUT/stats.md. Run it again to resume: submissions whose content, rubric and grader version \
are unchanged are not graded again. See docs/batch.md.\n\nExit codes: 0 every submission has a result, \
2 bad input (nothing graded), 3 some submissions could not be graded (their rows say why; rerun to retry them)."
    )]
    Batch(BatchArgs),
    /// Join the output folders of `grade batch --shard` runs into one gradebook and statistics.
    Merge {
        /// Output folders of the shards.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The folder to write (new, empty, or an earlier merge of the same rubric).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) for man(1): `grade man > grade.1`.
    Man {
        /// Instead, write a page per subcommand (grade.1, grade-batch.1, ...) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
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

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Checkpoint of the cohort (its built-in rubric unless --rubric is given).
    #[arg(value_parser = ["phase1", "phase2", "phase3", "phase4", "capstone"])]
    pub checkpoint: String,
    /// Folder with one subfolder per submission.
    #[arg(value_name = "COHORT_DIR")]
    pub cohort: PathBuf,
    /// Output folder (created; an earlier run's folder resumes it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Submissions graded at the same time (default: the number of CPUs).
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// An instructor's rubric instead of the checkpoint's built-in one.
    #[arg(long, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Grade only shard K of N (1-based; learners are split by a hash of their id).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Seconds one submission may take before its grading is stopped (it gets an errored row).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub deadline: u64,
    /// Where learner ids come from: the folder name, or `[submission] learner` in the manifest
    /// (falling back to the folder name).
    #[arg(long, value_enum, default_value_t = LearnerId::Folder)]
    pub learner_id: LearnerId,
    /// Only static analysis: live probes are not run (with a rubric that has probe items every
    /// verdict is incomplete).
    #[arg(long)]
    pub static_only: bool,
    /// Grade even where this machine cannot sandbox the learner's services (no network
    /// namespace or no control groups: not root and no unprivileged user namespaces); without
    /// it such a batch refuses to start. Also runs each grading with `--unsandboxed`.
    #[arg(long)]
    pub unsandboxed: bool,
    /// Evidence rules to add to the built-in ones for every submission (see `grade
    /// explain evidence`); results graded with other rules are graded again.
    #[arg(long, value_name = "DIR")]
    pub evidence_rules: Option<PathBuf>,
    /// The grade executable run per submission (default: this one).
    #[arg(long, value_name = "PATH", hide = true)]
    pub grader: Option<PathBuf>,
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

    /// Also write JUnit XML (a suite per section, a case per item) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also write SARIF 2.1.0 (for code scanning) to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,

    /// GitHub Actions: print workflow annotations on standard output after the report, and
    /// append the Markdown report to $GITHUB_STEP_SUMMARY when it is set.
    #[arg(long)]
    pub github: bool,

    /// Also write a Gradescope results.json to FILE.
    #[arg(long, value_name = "FILE")]
    pub gradescope: Option<PathBuf>,

    /// Also write a self-contained HTML report (with the service graph) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Also write a one-row gradebook CSV to FILE.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write every format into DIR with fixed names (report.txt, report.json, report.md,
    /// junit.xml, report.sarif, github.txt, results.json, report.html, report.csv).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,

    /// Print nothing on standard output (use with the file options; the exit code still tells).
    #[arg(long, short)]
    pub quiet: bool,

    /// Only static analysis: live probes are not run. With a rubric that has probe items the
    /// verdict is incomplete (exit 3), the score provisional: never a pass.
    #[arg(long)]
    pub static_only: bool,

    /// Evidence rules to add to the built-in ones: a folder of TOML rule files (one rule
    /// each, with examples that must match as they say; `grade explain evidence`).
    #[arg(long, value_name = "DIR")]
    pub evidence_rules: Option<PathBuf>,

    /// Probe a service that already runs instead of starting it (repeatable), e.g.
    /// `--target orders=http://127.0.0.1:8080` or `orders=https://localhost:8443` (port 443 by
    /// default). Only loopback unless `--allow-host` allows the host.
    #[arg(long = "target", value_name = "NAME=URL")]
    pub targets: Vec<String>,

    /// Let live probes contact HOST besides loopback (repeatable); anything else is refused.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,

    /// Trust the certificate authority in FILE (PEM) for https targets, besides the system's
    /// (repeatable): the CA of a local certificate made with mkcert (`$(mkcert -CAROOT)/rootCA.pem`)
    /// or a self-signed one. Certificates are always verified.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_certs: Vec<PathBuf>,

    /// Let probes send POST, PUT, PATCH and DELETE to `--target` services too (they may hold
    /// real data, so by default they only get GET and HEAD; services the grader starts always
    /// get every documented method).
    #[arg(long)]
    pub allow_unsafe_methods: bool,

    /// Run the learner's services without the network sandbox (by default they, and the
    /// probes, run in a network namespace of their own where only loopback exists, when the
    /// grader can make one); the report says the network was not isolated.
    #[arg(long)]
    pub unsandboxed: bool,

    /// Add a `timing` object to the JSON report (runs are otherwise byte-identical).
    #[arg(long)]
    pub timings: bool,

    /// Largest document read, in MiB (default 16); a larger one is a finding naming the limit.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_file_size: Option<u32>,

    /// Deepest nesting of a document (default 256, at most 4096).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_depth: Option<u32>,

    /// Most values in one document (default 5,000,000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_nodes: Option<u32>,

    /// Most nodes YAML aliases may expand into (default 100,000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_alias_expansions: Option<u32>,

    /// Longest `$ref` chain followed before it is reported (default 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_ref_hops: Option<u32>,

    /// Largest answer a live probe reads, in MiB (default 4).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_response_size: Option<u32>,
}

impl GradeArgs {
    /// The document limits these arguments ask for (defaults where not given).
    pub fn limits(&self) -> crate::artifact::document::Limits {
        let mut l = crate::artifact::document::Limits::default();
        if let Some(m) = self.max_file_size {
            l.max_bytes = m as usize * 1024 * 1024;
        }
        if let Some(d) = self.max_depth {
            l.max_depth = d as usize;
        }
        if let Some(n) = self.max_nodes {
            l.max_nodes = n as usize;
        }
        if let Some(a) = self.max_alias_expansions {
            l.max_alias_expansions = a as usize;
        }
        if let Some(h) = self.max_ref_hops {
            l.max_ref_hops = h as usize;
        }
        if let Some(r) = self.max_response_size {
            l.max_response = r as usize * 1024 * 1024;
        }
        l
    }
}
