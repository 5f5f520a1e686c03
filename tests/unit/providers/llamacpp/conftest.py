"""These tests write GGUF files with the ``gguf`` package, which comes with the ``local`` extra."""

from importlib.util import find_spec

collect_ignore_glob = [] if find_spec("numpy") and find_spec("gguf") else ["test_*.py"]
