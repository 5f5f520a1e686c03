"""The ``inference-service`` console script.

``chat``, ``embed`` and ``rerank`` are clients of a running service: they need the SDK and
nothing of the server, so they are parsed and run here without importing it (the server's
stack takes over a second to import; the SDK a tenth of that). Every other command, and every
spelling this fast path does not recognise, goes to :mod:`inference_service.cli_admin`, whose
parser knows all commands (``--help`` lists them).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from inference_service.cli_client import CLIENT_COMMANDS, add_client_commands, run_client_command


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in CLIENT_COMMANDS:
        return run_client_command(_client_parser().parse_args(args))
    from inference_service.cli_admin import main as admin_main

    return admin_main(args)


def _client_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inference-service")
    add_client_commands(parser.add_subparsers(dest="command", required=True))
    return parser
