"""``inference-service serve`` with an introspection hook, for ``soak.py`` only.

    SOAK_STATS_FILE=/tmp/stats.json python benchmarks/soak_serve.py   # then: kill -USR1 <pid>

On ``SIGUSR1`` the process writes, inside its event loop's thread, what only it can see: the
asyncio tasks alive, how many of them are hypercorn connections, and the most numerous object
types (after a full garbage collection), as one JSON object to ``SOAK_STATS_FILE``. The
service itself has no such hook (nothing is added to the product for a benchmark); this wrapper
installs the handler and then runs the normal ``serve`` command in the same process (one
worker, hypercorn's ``workers=0``, so the loop runs on this main thread).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from types import FrameType

from inference_service.cli import main

TOP_TYPES = 12


def _snapshot() -> dict[str, object]:
    gc.collect()
    try:
        tasks = asyncio.all_tasks()
    except RuntimeError:  # the signal came before the loop started
        tasks = set()
    connections = sum(
        1 for task in tasks if getattr(task.get_coro(), "__qualname__", "").endswith("_server_callback")
    )
    types = Counter(type(obj).__qualname__ for obj in gc.get_objects())
    return {
        "tasks": len(tasks),
        "connections": connections,
        "gc_objects": sum(types.values()),
        "top_types": types.most_common(TOP_TYPES),
    }


def _on_usr1(signum: int, frame: FrameType | None) -> None:
    path = Path(os.environ["SOAK_STATS_FILE"])
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(_snapshot()))
    partial.replace(path)  # the reader never sees half a file


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, _on_usr1)
    sys.exit(main(["serve"]))
