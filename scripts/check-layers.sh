#!/usr/bin/env bash
# The layer check (ARCHITECTURE.md, "Layers"): fails when a module of src/ imports one it must not.
#
# Levels, highest first. A module may use a module on a lower level, never one on its own level
# or above, except for the edges listed under EXTRA. Nothing but main.rs and lib.rs is above cli,
# so nothing imports cli.
#
#   level 7  main lib                 the binary and the module list (may name every module)
#   level 6  cli                      arguments, printing, exit statuses
#   level 5  export verify import sign inspect inventory receipt
#                                     the commands (inspect has no module of its own: cli/inspect.rs)
#   level 4  notary registry trust_artifact fixture
#                                     Notary rules, the registry client, the trust artifact,
#                                     the sample-bundle generator
#   level 3  layout                   the bundle: names, model, scan, writer, selection,
#                                     referrers tags, capped reads
#   level 2  archive                  tar and compression only
#   level 1  digest finding fsutil gojson
#                                     leaves (fsutil: file-system facts, e.g. same_file; gojson:
#                                     how Go's encoding/json reads a document)
#   level 0  testkit                  test-only helpers (#[cfg(test)]; also compiled into the
#                                     integration tests by #[path]): uses no module of the crate
#
# EXTRA, the only sideways edges (each justified in ARCHITECTURE.md, "Layers"):
#   export -> verify          export verifies what it captured with verify's own stages
#   export -> sign            export --sign-key signs the trust artifact with airlock sign's own code
#   receipt -> verify         a receipt is built from verify's report and checked with its signature stage
#   receipt -> sign           a receipt's signature manifest is built by airlock sign's own code
#   trust_artifact -> notary  the trust artifact is read with notary's policy/store/CRL parsers
#
# ONLY, modules held below what their level allows:
#   notary: digest finding fsutil gojson testkit
#                             Notary rules are bundle-agnostic: no layout, no archive
#
# So notary uses only digest, finding, fsutil and gojson; registry never sees export, import, verify or sign;
# archive never sees layout.
#
# What counts as an import, on every line that is not a `//` comment, whatever #[cfg(...)] or
# #[cfg(test)] it sits under: `crate::X` and `$crate::X` anywhere (a `use`, a path in an
# expression or a type), `crate::{X, Y::..}` groups (also over several lines), and a `super::`
# chain that climbs out of the file's top-level module (counted against the file's module path
# plus the inline `mod name {` blocks around the line, found by rustfmt's indentation).
#
# Usage: scripts/check-layers.sh [--root DIR] | --self-test
set -euo pipefail

LEVELS='main:7 lib:7 cli:6 export:5 verify:5 import:5 sign:5 inspect:5 inventory:5 receipt:5 notary:4 registry:4 trust_artifact:4 fixture:4 layout:3 archive:2 digest:1 finding:1 fsutil:1 gojson:1 testkit:0'
EXTRA='export>verify export>sign receipt>verify receipt>sign trust_artifact>notary'
ONLY='notary:digest,finding,fsutil,gojson,testkit'

check() {
    local root=$1
    local files
    files=$(cd "$root" && find src -name '*.rs' | LC_ALL=C sort)
    [ -n "$files" ] || { echo "check-layers: no src/**/*.rs under $root" >&2; return 2; }
    (cd "$root" && awk -v levels="$LEVELS" -v extra="$EXTRA" -v only="$ONLY" '
function modpath(f,   p, n, parts, i, out) {
    # src/a/b.rs -> "a b"; src/a/mod.rs -> "a"; src/lib.rs, src/main.rs -> "" (the crate root)
    p = f; sub(/^src\//, "", p); sub(/\.rs$/, "", p)
    if (p == "lib" || p == "main") return ""
    n = split(p, parts, "/")
    if (parts[n] == "mod") n--
    out = parts[1]
    for (i = 2; i <= n; i++) out = out " " parts[i]
    return out
}
function report(target, how,   from) {
    from = top
    if (target == from) return
    if (!(target in level)) {
        printf "%s:%d: %s -> %s: unknown module (add it to the table in scripts/check-layers.sh)\n", FILENAME, at, from, target
        bad++; return
    }
    if (from in restricted) {
        if (index("," restricted[from] ",", "," target ",")) return
        printf "%s:%d: forbidden edge %s -> %s (%s; %s may use only %s)\n", FILENAME, at, from, target, how, from, restricted[from]
        bad++; return
    }
    if (level[from] > level[target] || ((from ">" target) in allowed)) return
    printf "%s:%d: forbidden edge %s -> %s (%s; level %d may not use level %d)\n", FILENAME, at, from, target, how, level[from], level[target]
    bad++
}
function group_names(text,   depth, i, c, part, name) {
    # text: what follows "crate::{" up to its closing brace; report each top-level name
    depth = 0; part = ""
    for (i = 1; i <= length(text); i++) {
        c = substr(text, i, 1)
        if (c == "{") depth++
        else if (c == "}") { if (depth == 0) break; depth-- }
        if (c == "," && depth == 0) { group_one(part); part = ""; continue }
        if (depth == 0 || c != "") part = part c
    }
    group_one(part)
}
function group_one(part,   name) {
    gsub(/^[ \t\n]+/, "", part)
    if (match(part, /^[a-z_][a-z0-9_]*/)) {
        name = substr(part, RSTART, RLENGTH)
        if (name != "self") report(name, "use crate::{" name "..}")
    }
}
BEGIN {
    n = split(levels, l, " ")
    for (i = 1; i <= n; i++) { split(l[i], kv, ":"); level[kv[1]] = kv[2] + 0 }
    n = split(extra, e, " ")
    for (i = 1; i <= n; i++) allowed[e[i]] = 1
    n = split(only, o, " ")
    for (i = 1; i <= n; i++) { split(o[i], kv, ":"); restricted[kv[1]] = kv[2] }
    bad = 0
}
FNR == 1 {
    path = modpath(FILENAME)
    depth = (path == "") ? 0 : split(path, parts, " ")
    top = (path == "") ? (FILENAME ~ /main\.rs$/ ? "main" : "lib") : parts[1]
    nstack = 0; pending = ""; ingroup = 0
}
# main.rs is the binary crate: its crate:: paths are its own items, and it may use every module.
top == "main" { next }
{
    line = $0
    at = FNR
    # inline modules: "mod name {" opens one at its indentation; "}" at that indentation closes it
    if (match(line, /^ *((pub(\([^)]*\))? )?mod [a-z_][a-z0-9_]* \{ *$)/)) {
        match(line, /^ */); stack[++nstack] = RLENGTH
    } else if (nstack > 0 && match(line, /^ *\} *$/)) {
        match(line, /^ */); if (RLENGTH == stack[nstack]) nstack--
    }
    if (line ~ /^[ \t]*\/\//) next
    sub(/[ \t]\/\/.*$/, "", line)   # a trailing comment (not "://" inside a URL)

    if (ingroup) {
        pending = pending " " line
        if (index(line, "}") == 0) next
        opens = gsub(/\{/, "{", pending); closes = gsub(/\}/, "}", pending)
        if (closes < opens) next
        at = groupline; group_names(pending); ingroup = 0; pending = ""
        next
    }
    rest = line
    while (match(rest, /crate::(\{|[a-z_][a-z0-9_]*)/)) {
        tok = substr(rest, RSTART + 7, RLENGTH - 7)
        after = substr(rest, RSTART + RLENGTH)
        if (tok == "{") {
            opens = 1 + gsub(/\{/, "{", after); closes = gsub(/\}/, "}", after)
            if (closes < opens) { ingroup = 1; groupline = FNR; pending = after; break }
            group_names(after)
        } else {
            report(tok, "crate::" tok)
        }
        rest = after
    }
    rest = line
    while (match(rest, /(super::)+([a-z_][a-z0-9_]*|\{|\*)?/)) {
        chain = substr(rest, RSTART, RLENGTH)
        k = gsub(/super::/, "&", chain)
        if (RSTART > 1 && substr(rest, RSTART - 1, 1) ~ /[a-z0-9_:]/) { rest = substr(rest, RSTART + RLENGTH); continue }
        here = depth + nstack
        if (k >= here) {
            nxt = chain; gsub(/(super::)+/, "", nxt)
            if (k > here || nxt == "" || nxt == "{" || nxt == "*") {
                printf "%s:%d: %s climbs above the crate root or names it whole (%s)\n", FILENAME, FNR, top, chain
                bad++
            } else {
                report(nxt, chain " out of " top)
            }
        }
        rest = substr(rest, RSTART + RLENGTH)
    }
}
END { if (bad > 0) { printf "check-layers: %d forbidden or unknown edge(s)\n", bad; exit 1 } }
' $files)
}

self_test() {
    local tmp rc out
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    cp -r src "$tmp/src"
    # A clean copy passes.
    check "$tmp" >/dev/null || { echo "self-test: the unplanted tree fails"; return 1; }
    # Each way of importing, planted once; every one must be named.
    mkdir -p "$tmp/src/archive" "$tmp/src/notary"
    cat >"$tmp/src/archive/planted.rs" <<'EOF'
//! crate::layout in a comment is not an import.
use crate::layout::Limits;
#[cfg(test)]
mod tests {
    use super::super::super::verify::check;
    #[cfg(feature = "pull")]
    use crate::{
        digest::Digest,
        export::Fetch,
    };
}
EOF
    cat >"$tmp/src/notary/planted.rs" <<'EOF'
fn f() -> Option<crate::layout::Limits> { None } // crate::verify in a trailing comment
#[cfg(feature = "pull")]
use crate::{finding::Code, cli::Cli};
EOF
    set +e
    out=$(check "$tmp")
    rc=$?
    set -e
    local want missing=0
    for want in \
        "src/archive/planted.rs:2: forbidden edge archive -> layout" \
        "src/archive/planted.rs:5: forbidden edge archive -> verify" \
        "src/archive/planted.rs:7: forbidden edge archive -> export" \
        "src/notary/planted.rs:1: forbidden edge notary -> layout" \
        "src/notary/planted.rs:3: forbidden edge notary -> cli"; do
        grep -qF "$want" <<<"$out" || { echo "self-test: not reported: $want"; missing=1; }
    done
    if grep -qE 'planted.rs:(1: forbidden edge archive|[0-9]+: forbidden edge [a-z_]+ -> (digest|finding))|notary -> verify' <<<"$out"; then
        echo "self-test: a comment or an allowed edge was reported:"; echo "$out"; missing=1
    fi
    if [ "$rc" -ne 1 ] || [ "$(grep -c 'forbidden edge' <<<"$out")" -ne 5 ]; then
        echo "self-test: expected exit 1 with 5 edges, got exit $rc:"; echo "$out"; missing=1
    fi
    [ "$missing" -eq 0 ] || return 1
    echo "check-layers self-test: planted imports are refused (5 edges, exit 1):"
    sed 's/^/  /' <<<"$out"
}

cd "$(dirname "$0")/.."
case "${1:-}" in
--self-test) self_test ;;
--root) check "$2" && echo "check-layers: no forbidden edge" ;;
"") check . && echo "check-layers: no forbidden edge" ;;
*) echo "usage: $0 [--root DIR | --self-test]" >&2; exit 2 ;;
esac
