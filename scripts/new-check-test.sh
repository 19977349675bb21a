#!/usr/bin/env bash
# Proves that a check scaffolded by scripts/new-check.py compiles, is formatted, and passes the
# registry test (unique ids and names, docs headings, parameters, fixtures, never passing an
# empty submission): copies the crate into $CARGO_TARGET_DIR/scaffold-test/crate, scaffolds one check with
# parameters (OAS) and one without (DATA) there, then runs rustfmt, clippy and
# `cargo test --test registry` in the copy. tests/scaffold.rs checks the files it writes
# without compiling; this is the compile step, run by .ci/run after the main tests.
#
# It builds in the same target folder as the crate (${CARGO_TARGET_DIR:-target}), so only the
# copied crate compiles (the dependencies are reused); run it when no other cargo command
# uses that folder (it would wait for the lock). The copy is renamed (package and binary
# `grade-scaffold-proof`) so that none of its files replaces one of the crate's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$root/$CARGO_TARGET_DIR" ;; esac
# A fixed folder: its build replaces the previous one's instead of piling up in the target.
copy="$CARGO_TARGET_DIR/scaffold-test/crate"
rm -rf "$copy"
mkdir -p "$copy"
cd "$root"
cp -R Cargo.toml Cargo.lock build.rs rustfmt.toml src rubrics schemas fixtures scripts "$copy/"
mkdir -p "$copy/tests"
# tests/checks.rs is declared in Cargo.toml (harness = false): the manifest needs it.
cp -R tests/registry.rs tests/checks.rs tests/common "$copy/tests/"
cd "$copy"
# Another package and binary name: artifacts of the same name would overwrite the crate's own
# in the shared target folder (cargo's file names do not depend on the crate's folder).
python3 - <<'PY'
import re
from pathlib import Path
p = Path("Cargo.toml")
s = p.read_text()
# The package and the binary; the library keeps its name (`use grade::...`).
s = s.replace('[package]\nname = "grade"', '[package]\nname = "grade-scaffold-proof"', 1)
s = s.replace('[[bin]]\nname = "grade"', '[[bin]]\nname = "grade-scaffold-proof"', 1)
s = s.replace('default-run = "grade"', 'default-run = "grade-scaffold-proof"', 1)
assert s.count('"grade-scaffold-proof"') == 3, "Cargo.toml has changed shape: update this script"
p.write_text(s)
PY
sed -i 's/CARGO_BIN_EXE_grade"/CARGO_BIN_EXE_grade-scaffold-proof"/' tests/common/mod.rs
python3 scripts/new-check.py OAS scaffold-proof-rule --params
python3 scripts/new-check.py DATA scaffold-proof-check
cargo fmt --all -- --check
cargo clippy --offline --quiet --lib -- -D warnings
cargo test --offline --quiet --test registry
echo "scaffolded checks compile, are formatted and pass the registry test"
