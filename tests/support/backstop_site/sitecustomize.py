"""The network backstop in the processes tests start (the CLI, ``serve`` with workers, the
installed wheel): ``tests/conftest.py`` puts this directory on their ``PYTHONPATH`` and names a
log file in ``INFERENCE_SERVICE_TEST_NETWORK_LOG``; every forbidden attempt is refused here and
appended to that file, which the test's teardown reads (tests.support.network_guard)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path


def _install() -> None:
    log = os.environ.get("INFERENCE_SERVICE_TEST_NETWORK_LOG")
    if not log:
        return
    path = Path(__file__).resolve().parent.parent / "network_guard.py"
    spec = importlib.util.spec_from_file_location("_test_network_guard", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.NetworkGuard(log_file=log).install()


_install()
