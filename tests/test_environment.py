"""The installed stack loads together in this venv, in fresh processes like the pipeline's own."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


def run_python(code, **kwargs):
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=600, **kwargs)


def host_glibc():
    out = subprocess.run(["getconf", "GNU_LIBC_VERSION"], capture_output=True, text=True, check=True)
    return tuple(int(part) for part in out.stdout.split()[-1].split("."))


def test_tfx_stack_imports_after_tensorflow_and_stores_metadata(tmp_path):
    result = run_python(f"""
        import tensorflow as tf
        import tfx.v1 as tfx
        import tensorflow_data_validation as tfdv
        import ml_metadata
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2

        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = {str(tmp_path / "metadata.sqlite")!r}
        config.sqlite.connection_mode = 3
        store = metadata_store.MetadataStore(config)
        kind = metadata_store_pb2.ArtifactType(name="Model")
        type_id = store.put_artifact_type(kind)
        [artifact_id] = store.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri="/m")])
        assert store.get_artifacts_by_id([artifact_id])[0].uri == "/m"
        stats = tfdv.generate_statistics_from_dataframe(__import__("pandas").DataFrame({{"x": [1.0, 2.0]}}))
        assert stats.datasets[0].num_examples == 2
        print("ok", tf.__version__, tfx.__name__)
    """)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "ok 2.21" in result.stdout


def test_keras_stays_keras_3_after_tensorflow_transform():
    result = run_python("""
        import tensorflow as tf
        import tensorflow_transform
        import keras
        print("keras", keras.__version__, type(tf.keras.layers.Dense(1)).__module__)
    """)
    assert result.returncode == 0, result.stderr[-4000:]
    words = result.stdout.split()
    assert words[0] == "keras" and words[1].startswith("3."), result.stdout
    assert words[2].startswith("keras."), f"tf.keras resolved to Keras 2 ({words[2]})"


def test_odezoo_doctor_exits_zero_and_reports_the_stack():
    doctor = VENV / "bin" / "odezoo"
    result = subprocess.run([str(doctor), "doctor"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    for label in ("Python", "TensorFlow", "Keras", "TFX", "KFP", "glibc (this process)", "compat runtime"):
        assert label in result.stdout
    version = subprocess.run([str(doctor), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("odezoo ")


def test_interpreter_runs_on_a_glibc_the_tfx_wheels_accept():
    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]
    assert tuple(int(part) for part in glibc.split(".")) >= (2, 39)
    child = run_python("import os; print(os.confstr('CS_GNU_LIBC_VERSION'))")
    assert child.stdout.split()[-1] == glibc


@pytest.mark.skipif(host_glibc() >= (2, 39), reason="the host's glibc needs no compat runtime")
def test_compat_runtime_is_reapplied_when_the_interpreter_is_replaced(tmp_path):
    base = Path(subprocess.check_output(["bash", "-c", f"readlink -f $(sed -n 's/^home *= *//p' {VENV}/pyvenv.cfg)"
                                          f"/python{sys.version_info.major}.{sys.version_info.minor}"],
                                         text=True).strip())
    venv = tmp_path / "venv"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True)
    # Reuse this venv's downloads so the test needs no network.
    shutil.copytree(VENV / "compat" / "debs", venv / "compat" / "debs")
    shutil.copytree(VENV / "compat" / "tools", venv / "compat" / "tools")
    script = ROOT / "tools" / "compat_runtime.sh"

    def glibc_of(python):
        return subprocess.run([str(python), "-c", "import os; print(os.confstr('CS_GNU_LIBC_VERSION'))"],
                              capture_output=True, text=True, check=True).stdout.split()[-1]

    subprocess.run(["bash", str(script), str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python3"
    assert not python.is_symlink() and glibc_of(python) != ".".join(map(str, host_glibc()))

    python.unlink()
    python.symlink_to(base)  # what `python -m venv` over an existing venv does
    assert glibc_of(python) == ".".join(map(str, host_glibc()))
    subprocess.run(["bash", str(script), str(venv)], check=True, capture_output=True)
    assert not python.is_symlink() and glibc_of(python) != ".".join(map(str, host_glibc()))


def test_a_hanging_test_fails_on_the_configured_timeout(tmp_path):
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert 0 < int(options["timeout"]) <= 1800
    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hang():\n    time.sleep(600)\n")
    # The project's own ini with a shorter limit: the plugin is active and a hang ends as a failure.
    result = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir",
                             str(tmp_path), "-o", "timeout=3", "-p", "no:cacheprovider", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "Failed: Timeout (>3.0s) from pytest-timeout" in result.stdout, result.stdout[-2000:]
