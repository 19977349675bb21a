//! The check registry. A check is one file under its area's folder: its metadata, its docs
//! (What it checks / Why it matters / How to fix / Example), its parameters and its run
//! function. [`registry`] lists every check; rubrics refer to checks by id or name.

pub mod arch;
pub mod context;
pub mod ctr;
pub mod data;
pub mod evo;
pub mod evt;
pub mod oas;
pub mod ops;
pub mod prb;
pub mod sub;

use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::finding::{CheckResult, Finding, Outcome};
pub use context::{run_alone, Ctx};

/// The area a check belongs to; also the prefix of its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Area {
    /// The submission itself: manifest and artifacts.
    Sub,
    /// API design (OpenAPI).
    Oas,
    /// API evolution.
    Evo,
    /// Contracts.
    Ctr,
    /// Decomposition and the service graph.
    Arch,
    /// Data ownership and consistency.
    Data,
    /// Events and sagas.
    Evt,
    /// Operations.
    Ops,
    /// Live probes.
    Prb,
}

impl Area {
    pub fn prefix(self) -> &'static str {
        match self {
            Area::Sub => "SUB",
            Area::Oas => "OAS",
            Area::Evo => "EVO",
            Area::Ctr => "CTR",
            Area::Arch => "ARCH",
            Area::Data => "DATA",
            Area::Evt => "EVT",
            Area::Ops => "OPS",
            Area::Prb => "PRB",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Area::Sub => "Submission",
            Area::Oas => "API design",
            Area::Evo => "API evolution",
            Area::Ctr => "Contracts",
            Area::Arch => "Decomposition and service graph",
            Area::Data => "Data ownership and consistency",
            Area::Evt => "Events and sagas",
            Area::Ops => "Operations",
            Area::Prb => "Live probes",
        }
    }
}

/// Static checks read files; probe checks need running services (skipped with `--static-only`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Static,
    Probe,
}

/// One documented parameter of a check.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamDoc {
    pub name: &'static str,
    /// The TOML type, e.g. `integer`, `string`, `array of strings`.
    pub ty: &'static str,
    pub description: &'static str,
}

/// A check's metadata and documentation.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CheckInfo {
    /// Stable id: area prefix + number, never reused.
    pub id: &'static str,
    /// Kebab-case name that names the problem.
    pub name: &'static str,
    pub area: Area,
    pub kind: Kind,
    /// One line: what is wrong when it fails.
    pub summary: &'static str,
    /// Markdown with the headings What it checks / Why it matters / How to fix / Example.
    #[serde(skip)]
    pub docs: &'static str,
    pub params: &'static [ParamDoc],
}

/// A check with typed parameters; [`Typed`] adapts it to the registry.
pub trait TypedCheck: Sync + 'static {
    type Params: DeserializeOwned + Serialize + Default;
    const INFO: CheckInfo;
    /// An OAS check's rule over one OpenAPI description, which its `run` applies to every
    /// document ([`oas::walk::check_apis`]); [`Check::evaluate_api`] exposes it.
    const OAS_RULE: Option<oas::OasRule<Self::Params>> = None;
    fn run(ctx: &Ctx<'_>, params: &Self::Params) -> CheckResult;
}

/// The object-safe view of a check, as the registry holds it.
pub trait Check: Sync {
    fn info(&self) -> &'static CheckInfo;
    /// The default parameters, as a TOML table.
    fn default_params(&self) -> toml::Table;
    /// Validates and completes `params` (missing ones take their defaults).
    fn resolve_params(&self, params: toml::Table) -> Result<toml::Table, toml::de::Error>;
    /// Validates parameters written in TOML source (an inline table), for errors with spans.
    fn validate_params_source(&self, source: &str) -> Result<(), toml::de::Error>;
    fn run(&self, ctx: &Ctx<'_>, params: &toml::Table) -> CheckResult;
    /// An OAS check's rule over one description with the default parameters (the corpus test
    /// runs every registered one); `None` for a check without such a rule.
    fn evaluate_api(&self, api: &oas::walk::Api<'_>) -> Option<oas::walk::Tally>;
}

/// Adapter from [`TypedCheck`] to [`Check`].
pub struct Typed<C>(PhantomData<C>);

impl<C> Typed<C> {
    pub const fn new() -> Self {
        Typed(PhantomData)
    }
}

impl<C> Default for Typed<C> {
    fn default() -> Self {
        Self::new()
    }
}

fn to_table<T: Serialize>(value: &T) -> toml::Table {
    match toml::Table::try_from(value) {
        Ok(t) => t,
        // Parameter structs are plain data; a failure here is a bug in the check.
        Err(e) => panic!("parameter struct does not serialize to a TOML table: {e}"),
    }
}

impl<C: TypedCheck> Check for Typed<C> {
    fn info(&self) -> &'static CheckInfo {
        &C::INFO
    }

    fn default_params(&self) -> toml::Table {
        to_table(&C::Params::default())
    }

    fn resolve_params(&self, params: toml::Table) -> Result<toml::Table, toml::de::Error> {
        let typed = C::Params::deserialize(toml::Value::Table(params))?;
        Ok(to_table(&typed))
    }

    fn validate_params_source(&self, source: &str) -> Result<(), toml::de::Error> {
        let de = toml::de::ValueDeserializer::parse(source)?;
        C::Params::deserialize(de).map(|_| ())
    }

    fn run(&self, ctx: &Ctx<'_>, params: &toml::Table) -> CheckResult {
        match C::Params::deserialize(toml::Value::Table(params.clone())) {
            Ok(p) => C::run(ctx, &p),
            Err(e) => CheckResult::errored(format!("parameters did not validate: {e}")),
        }
    }

    fn evaluate_api(&self, api: &oas::walk::Api<'_>) -> Option<oas::walk::Tally> {
        let rule = C::OAS_RULE?;
        let mut tally = oas::walk::Tally::default();
        rule(api, &C::Params::default(), &mut tally);
        Some(tally)
    }
}

/// For checks without parameters.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Every check, ordered by area then id. Each area's `mod.rs` lists its checks in `CHECKS`.
pub fn registry() -> &'static [&'static dyn Check] {
    static ALL: OnceLock<Vec<&'static dyn Check>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static dyn Check> = [
            sub::CHECKS,
            oas::CHECKS,
            evo::CHECKS,
            ctr::CHECKS,
            arch::CHECKS,
            data::CHECKS,
            evt::CHECKS,
            ops::CHECKS,
            prb::CHECKS,
        ]
        .concat();
        all.sort_by_key(|c| (c.info().area, c.info().id));
        all
    })
}

/// Finds a check by id (case-insensitive) or by name.
pub fn find(key: &str) -> Option<&'static dyn Check> {
    let key = key.trim();
    registry()
        .iter()
        .copied()
        .find(|c| c.info().id.eq_ignore_ascii_case(key) || c.info().name == key)
}

/// The closest id or name, for "did you mean".
pub fn suggest(key: &str) -> Option<&'static str> {
    let upper = key.to_ascii_uppercase();
    // An area and a number written without its zeros (`ARCH2`, `arch02`) mean that number.
    let split = upper.find(|c: char| c.is_ascii_digit()).unwrap_or(upper.len());
    if let (area, Ok(n)) = (&upper[..split], upper[split..].parse::<u32>()) {
        let same = registry()
            .iter()
            .map(|c| c.info().id)
            .find(|id| id.strip_prefix(area).and_then(|d| d.parse::<u32>().ok()) == Some(n));
        if same.is_some() {
            return same;
        }
    }
    let ids = registry().iter().map(|c| c.info().id);
    if let Some(id) = crate::diag::did_you_mean(&upper, ids) {
        return Some(id);
    }
    crate::diag::did_you_mean(key, registry().iter().map(|c| c.info().name))
}

/// The four headings every check's docs must have, in order.
pub const DOC_HEADINGS: [&str; 4] = ["## What it checks", "## Why it matters", "## How to fix", "## Example"];

/// Runs check `C` alone over its fixture case `fixtures/checks/<ID>/<case>/` with `params`
/// (TOML): for unit tests of parameters the fixture harness (defaults only) cannot reach.
#[cfg(test)]
pub(crate) fn run_fixture<C: TypedCheck>(case: &str, params: &str) -> CheckResult {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/checks")
        .join(C::INFO.id)
        .join(case);
    let Ok(sub) = crate::submission::Submission::load(&dir) else {
        panic!("{} does not load", dir.display())
    };
    let check = Typed::<C>::new();
    let params = check
        .resolve_params(toml::from_str(params).expect("TOML"))
        .expect("parameters");
    run_alone(&check, &sub, &params, Default::default(), Default::default())
}
