//! `scripts/new-check.py AREA NAME` (docs/adding-a-check.md) in a copy of the check sources:
//! the files it writes, the module and registry lines, the next free id, the docs headings and
//! the fixtures; and what it refuses. Nothing is compiled here: `scripts/new-check-test.sh`
//! (a step of `.ci/run`) compiles a scaffolded copy of the crate and runs the registry test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::copy_dir;
use grade::checks::{registry, Area, DOC_HEADINGS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of what the scaffold reads and writes: the check sources and the check fixtures.
fn copy(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scaffold").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("src/checks"), &dir.join("src/checks"));
    copy_dir(&root().join("fixtures/checks"), &dir.join("fixtures/checks"));
    dir
}

fn scaffold(dir: &Path, args: &[&str]) -> Output {
    Command::new("python3")
        .arg(root().join("scripts/new-check.py"))
        .args(args)
        .arg("--root")
        .arg(dir)
        .output()
        .expect("python3 runs scripts/new-check.py")
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The next free id of an area: one above its highest registered id.
fn next_id(area: Area) -> String {
    let top = registry()
        .iter()
        .filter(|c| c.info().area == area)
        .map(|c| c.info().id[area.prefix().len()..].parse::<u32>().unwrap())
        .max()
        .unwrap_or(0);
    format!("{}{:03}", area.prefix(), top + 1)
}

#[test]
fn scaffolds_a_registered_check_with_docs_and_fixtures() {
    let ids: BTreeSet<&str> = registry().iter().map(|c| c.info().id).collect();
    for (area, name, module, camel, params) in [
        (
            Area::Data,
            "scaffolded-thing",
            "scaffolded_thing",
            "ScaffoldedThing",
            false,
        ),
        (Area::Oas, "scaffolded-rule", "scaffolded_rule", "ScaffoldedRule", true),
    ] {
        let dir = copy(name);
        let mut args = vec![area.prefix(), name];
        if params {
            args.push("--params");
        }
        let o = scaffold(&dir, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let id = next_id(area);
        assert!(!ids.contains(id.as_str()), "{id} is taken");
        assert!(String::from_utf8_lossy(&o.stdout).starts_with(&format!("{id} {name}:")));

        let area_dir = dir.join("src/checks").join(area.prefix().to_lowercase());
        let source = read(area_dir.join(format!("{module}.rs")));
        assert!(source.contains(&format!("id: \"{id}\",")), "{source}");
        assert!(source.contains(&format!("name: \"{name}\",")), "{source}");
        assert!(source.contains(&format!("area: Area::{area:?},")), "{source}");
        assert!(source.contains(&format!("impl TypedCheck for {camel} {{")), "{source}");
        // A scaffolded check never passes: it fails, saying it is not implemented.
        assert!(
            source.contains(&format!(
                "CheckResult::failed_because(\"{id} {name} is not implemented yet\")"
            )),
            "{source}"
        );
        assert!(!source.contains("CheckResult::passed"), "{source}");
        let mut at = 0;
        for h in DOC_HEADINGS {
            at += source[at..]
                .find(h)
                .unwrap_or_else(|| panic!("{id}: no `{h}` in order"))
                + h.len();
        }
        assert!(
            source.contains("## Why it matters\nTODO (Week"),
            "the docs ask for the week"
        );
        if params {
            assert!(
                source.contains("type Params = Params;") && source.contains("ParamDoc {"),
                "{source}"
            );
            assert!(source.contains("#[serde(deny_unknown_fields, default)]"), "{source}");
        } else {
            assert!(source.contains("type Params = NoParams;"), "{source}");
        }
        // An OAS check declares its rule over one description, for the corpus test.
        assert_eq!(
            source.contains("const OAS_RULE: Option<OasRule<Self::Params>> = Some(evaluate);"),
            area == Area::Oas,
            "{source}"
        );

        let module_line = format!("pub mod {module};");
        let registry_line = format!("    &Typed::<{module}::{camel}>::new(),\n];");
        let mod_rs = read(area_dir.join("mod.rs"));
        let before = read(
            root()
                .join("src/checks")
                .join(area.prefix().to_lowercase())
                .join("mod.rs"),
        );
        assert_eq!(mod_rs.matches(&module_line).count(), 1, "{mod_rs}");
        assert!(mod_rs.contains(&registry_line), "{mod_rs}");
        // Only those two lines are added, and the `pub mod` lines stay sorted.
        let added = mod_rs.len() - before.len();
        assert_eq!(added, module_line.len() + 1 + registry_line.len() - 2, "{mod_rs}");
        let mods: Vec<&str> = mod_rs.lines().filter(|l| l.starts_with("pub mod ")).collect();
        assert!(mods.windows(2).all(|w| w[0] < w[1]), "{mods:?}");

        for case in ["pass", "fail"] {
            let manifest = read(dir.join("fixtures/checks").join(&id).join(case).join("submission.toml"));
            assert!(manifest.contains("[submission]"), "{manifest}");
        }
    }
}

#[test]
fn refuses_what_would_break_the_registry() {
    let dir = copy("refusals");
    let taken = registry()[0].info().name;
    for (args, says) in [
        (vec!["XYZ", "some-check"], "unknown area"),
        (vec!["ARCH", "Some_Check"], "not kebab-case"),
        (vec!["ARCH", "trailing-"], "not kebab-case"),
        (vec!["ARCH", taken], "already named"),
    ] {
        let o = scaffold(&dir, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing was written.
    let fixtures = std::fs::read_dir(dir.join("fixtures/checks")).unwrap().count();
    assert_eq!(
        fixtures,
        std::fs::read_dir(root().join("fixtures/checks")).unwrap().count()
    );
}
