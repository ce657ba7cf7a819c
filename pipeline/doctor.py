"""`odezoo doctor`: what odezoo runs on, and whether the pieces load together."""

import importlib
import importlib.metadata
import os
import platform
import subprocess
import sys

# Import order matters: TensorFlow first, as every odezoo process does, then the TFX stack whose
# native wheels need the newer glibc/libstdc++.
_MODULES = [
    ("TensorFlow", "tensorflow", "tensorflow"),
    ("Keras", "keras", "keras"),
    ("TFX", "tfx.v1", "tfx"),
    ("TF Data Validation", "tensorflow_data_validation", "tensorflow-data-validation"),
    ("ML Metadata", "ml_metadata", "ml-metadata"),
    ("TF Transform", "tensorflow_transform", "tensorflow-transform"),
    ("KFP", "kfp", "kfp"),
]


def host_glibc():
    """The host's glibc, read by a host binary (this interpreter may run on the compat runtime)."""
    try:
        out = subprocess.run(["getconf", "GNU_LIBC_VERSION"], capture_output=True, text=True, check=True)
        return out.stdout.split()[-1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def running_loader():
    """Path of the dynamic loader this process was started with."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "/ld-linux" in path:
                    return path
    except OSError:
        pass
    return None


def compat_runtime_in_use():
    loader = running_loader()
    return bool(loader) and os.path.realpath(loader).startswith(os.path.realpath(sys.prefix) + os.sep)


def main():
    from zoo.version import __version__

    rows = [
        ("odezoo", __version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", f"{platform.system()} {platform.machine()}"),
    ]
    failures = []
    for label, module, distribution in _MODULES:
        try:
            importlib.import_module(module)
            rows.append((label, importlib.metadata.version(distribution)))
        except Exception as error:  # report every broken piece, not only the first
            rows.append((label, f"IMPORT FAILED: {type(error).__name__}: {error}"))
            failures.append(label)
    libc = os.confstr("CS_GNU_LIBC_VERSION") or "unknown"
    rows.append(("glibc (this process)", libc.split()[-1]))
    rows.append(("glibc (host)", host_glibc()))
    in_use = compat_runtime_in_use()
    rows.append(("compat runtime", f"in use ({running_loader()})" if in_use else "not in use"))

    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if failures:
        print(f"\nodezoo doctor: {', '.join(failures)} failed to import; run `make setup` to repair .venv.",
              file=sys.stderr)
        return 1
    return 0
