"""The Kubeflow options of a compiled pipeline and their parsing; light to import, so that bad
arguments fail before TFX loads."""

import dataclasses
import os
from urllib.parse import urlparse

SCHEMES = ("gs", "s3", "minio", "http", "https", "file")
TRAINER = "Trainer"


def check_output(output):
    """The folder the compiled YAML goes to, which must exist and be writable."""
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise ValueError(f"-o {output!r}: cannot write into {folder!r}.")
    return folder


@dataclasses.dataclass(frozen=True)
class KubeflowOptions:
    """Where and on what the compiled pipeline runs."""

    pipeline_root: str
    image: str = "odezoo:0.1.0"
    trainer_image: str | None = None
    gpus: int = 0
    gpu_type: str = "nvidia.com/gpu"
    trainer_cpu_limit: float = 4.0
    trainer_memory_limit_gb: float = 16.0
    node_selectors: dict = dataclasses.field(default_factory=dict)
    tolerations: tuple = ()

    def __post_init__(self):
        if isinstance(self.gpus, bool) or not isinstance(self.gpus, int) or self.gpus < 0:
            raise ValueError(f"--gpus must be a non-negative integer, got {self.gpus!r}.")
        scheme = urlparse(self.pipeline_root).scheme
        if scheme not in SCHEMES:
            raise ValueError(f"--pipeline-root {self.pipeline_root!r} needs a scheme the cluster can reach "
                             f"({', '.join(s + '://' for s in SCHEMES)}), e.g. gs://bucket/odezoo or s3://bucket/odezoo.")
        if self.trainer_cpu_limit <= 0 or self.trainer_memory_limit_gb <= 0:
            raise ValueError("Trainer CPU and memory limits must be positive.")
        for toleration in self.tolerations:
            if "key" not in toleration:
                raise ValueError(f"A toleration needs a key: {toleration!r}.")


def parse_toleration(text):
    """``key=value:Effect`` or ``key:Effect`` (operator Equal or Exists) into a kfp-kubernetes toleration."""
    if ":" not in text:
        raise ValueError(f"--toleration {text!r}: write key=value:Effect or key:Effect "
                         "(Effect: NoSchedule, PreferNoSchedule or NoExecute).")
    head, effect = text.rsplit(":", 1)
    if effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
        raise ValueError(f"--toleration {text!r}: unknown effect {effect!r}.")
    key, _, value = head.partition("=")
    toleration = {"key": key, "operator": "Equal" if value else "Exists", "effect": effect}
    if value:
        toleration["value"] = value
    return toleration


def parse_node_selector(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--node-selector {text!r}: write key=value.")
    return key, value
