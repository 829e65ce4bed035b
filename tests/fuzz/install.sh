#!/usr/bin/env bash
# Installs schemathesis (PyPI, the versions pinned in requirements.txt) into a virtual
# environment outside the clone, once: later runs find it there and only check its version.
#
#   tests/fuzz/install.sh            # into $TCG_FUZZ_VENV (default ~/.cache/tcgtracker/venv)
#
# Needs python3 with the venv module (Debian: python3-venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${TCG_FUZZ_VENV:-$HOME/.cache/tcgtracker/venv}"
want=$(sed -n 's/^schemathesis==//p' "$here/requirements.txt")

if [ -x "$venv/bin/st" ] && [ "$("$venv/bin/st" --version 2>/dev/null)" = "st, version $want" ] \
    && cmp -s "$here/requirements.txt" "$venv/tcgtracker-requirements.txt"; then
    exit 0
fi
echo "== installing schemathesis $want into $venv"
command -v python3 >/dev/null 2>&1 || { echo "install.sh: python3 not found" >&2; exit 1; }
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
cp "$here/requirements.txt" "$venv/tcgtracker-requirements.txt"
"$venv/bin/st" --version
