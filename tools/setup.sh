#!/usr/bin/env bash
# Creates or refreshes .venv: interpreter, glibc compat runtime, locked dependencies, odezoo editable.
# Idempotent and quick when nothing changed: each step checks its own state first.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
python_version=3.11
uv_version=0.13.9

die() { echo "setup: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || die "odezoo's set-up supports Linux only (found $(uname -s))."
[ "$(uname -m)" = x86_64 ] || die "odezoo's set-up supports x86-64 only (found $(uname -m)); use an x86-64 host or container."

base=${PYTHON:-$(command -v "python$python_version" || true)}
[ -n "$base" ] || die "python$python_version was not found on PATH. Install Python $python_version (the locked stack's \
interpreter) or point PYTHON=/path/to/python$python_version at one."
"$base" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$python_version'.split('.')))" 2>/dev/null \
  || die "$base is not Python $python_version."

if [ -f "$venv/pyvenv.cfg" ] && ! grep -q "^version *= *$python_version\." "$venv/pyvenv.cfg"; then
  echo "setup: $venv was made by another Python; recreating it"
  rm -rf "$venv"
fi
if [ ! -f "$venv/pyvenv.cfg" ] || [ ! -e "$venv/bin/python3" ]; then
  echo "setup: creating $venv with $base"
  "$base" -m venv --clear "$venv"
fi

bash tools/compat_runtime.sh "$venv"

if [ ! -x "$venv/bin/uv" ] || [ "$("$venv/bin/uv" --version | awk '{print $2}')" != "$uv_version" ]; then
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "uv==$uv_version"
fi

stamp="$venv/.odezoo-installed"
wanted=$(cat requirements.lock pyproject.toml | sha256sum | awk '{print $1}')
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing the locked dependencies (requirements.lock)"
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python3" -r requirements.lock
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python3" --no-deps -e ".[test]"
  echo "$wanted" > "$stamp"
fi
echo "setup: $venv is up to date"
