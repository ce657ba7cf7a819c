#!/usr/bin/env bash
# Installs the peer libraries the benchmarks compare against, each apart from odezoo's .venv:
#   .bench/torch   torch 2.13.0 (CPU) + torchdiffeq
#   .bench/jax     jax + diffrax (jitted on the CPU)
#   .bench/tfp     TensorFlow Probability, layered over .venv's TensorFlow (it needs the same one)
# Idempotent: a peer already installed is skipped. A peer that cannot be installed is reported and
# left out; the benchmarks then print "not installed" for it.
set -uo pipefail
cd "$(dirname "$0")/.."
root=.bench
mkdir -p "$root"
python=${PYTHON:-$(command -v python3.11)}

install_venv() {
  local name=$1; shift
  if [ -f "$root/$name/.installed" ]; then return 0; fi
  echo "bench-peers: installing $name ($*)"
  rm -rf "${root:?}/$name"
  "$python" -m venv "$root/$name" && "$root/$name/bin/python" -m pip install --quiet --disable-pip-version-check \
    --root-user-action=ignore numpy "$@" && touch "$root/$name/.installed" \
    || echo "bench-peers: could not install $name; its columns will read 'not installed'" >&2
}

install_venv torch "torch==2.13.0" "torchdiffeq==0.2.5"
install_venv jax "jax[cpu]" "diffrax"
if [ ! -f "$root/tfp/.installed" ]; then
  echo "bench-peers: installing tfp (tensorflow-probability over .venv's TensorFlow)"
  rm -rf "$root/tfp"
  .venv/bin/uv pip install --quiet --python .venv/bin/python3 --target "$root/tfp" --no-deps \
    "tensorflow-probability==0.25.0" "dm-tree" "cloudpickle" "decorator" "gast" && touch "$root/tfp/.installed" \
    || echo "bench-peers: could not install tfp" >&2
fi
