"""The terminal commands built on the SDK: ``chat``, ``embed`` and ``rerank``.

They talk to a running service over HTTP (``--url``, else ``INFERENCE_SERVICE_URL``, else
``http://127.0.0.1:9280``; ``--api-key``, else ``INFERENCE_SERVICE_API_KEY``), so unlike the
admin commands they need no settings and no database. ``cli.py`` only registers them
(:func:`add_client_commands`) and hands their arguments to :func:`run_client_command`,
before it loads any settings.

``chat ID PROMPT`` streams one answer to stdout and exits. ``chat ID`` is a conversation:
each line is a turn (history kept), ``/reset`` forgets the history (not ``--system``),
``/exit`` or end of input (Ctrl-D) quits, and Ctrl-C stops the answer being streamed (the
part already shown stays in the history) or, at the prompt, discards the line. Exit codes:
0 success, 1 the service refused or failed, 130 interrupted (one-shot chat).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from inference_service.client import ChatMessage, InferenceClient, InferenceServiceError, Stream

CLIENT_COMMANDS = frozenset({"chat", "embed", "rerank"})
PROMPT = "> "
HELP = "/reset forgets the conversation, /exit (or Ctrl-D) quits, Ctrl-C stops an answer"


def add_client_commands(sub: Any) -> None:
    """Add the commands to ``inference-service``'s subparsers."""
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--url", help="the service (default: INFERENCE_SERVICE_URL or http://127.0.0.1:9280)"
    )
    connection.add_argument("--api-key", help="the encoded API key (default: INFERENCE_SERVICE_API_KEY)")

    chat = sub.add_parser(
        "chat", parents=[connection], help="chat with a chat_completion endpoint (interactive without PROMPT)"
    )
    chat.add_argument("inference_id")
    chat.add_argument("prompt", nargs="?", help="answer this one prompt and exit")
    chat.add_argument("--system", help="a system message opening the conversation")
    chat.add_argument("--max-tokens", type=_positive, help="the longest answer, in tokens")

    embed = sub.add_parser("embed", parents=[connection], help="print one JSON vector per TEXT")
    embed.add_argument("inference_id")
    embed.add_argument("texts", nargs="+", metavar="TEXT")
    embed.add_argument("--dims", action="store_true", help="print only each vector's dimension count")

    rerank = sub.add_parser("rerank", parents=[connection], help="rank DOCs against --query, best first")
    rerank.add_argument("inference_id")
    rerank.add_argument("documents", nargs="+", metavar="DOC")
    rerank.add_argument("--query", required=True)
    rerank.add_argument("--top-n", type=_positive)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run_client_command(args: argparse.Namespace) -> int:
    try:
        client = InferenceClient(args.url, args.api_key)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with client:
        try:
            if args.command == "embed":
                return _embed(client, args)
            if args.command == "rerank":
                return _rerank(client, args)
            if args.prompt is not None:
                return _chat_once(client, args)
        except InferenceServiceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return Conversation(client, args.inference_id, args.system, args.max_tokens).run(
            sys.stdin, sys.stdout
        )


def _embed(client: InferenceClient, args: argparse.Namespace) -> int:
    for vector in client.embedding(model=args.inference_id, input=list(args.texts)).embeddings:
        print(len(vector) if args.dims else json.dumps(vector))
    return 0


def _rerank(client: InferenceClient, args: argparse.Namespace) -> int:
    ranked = client.rerank(
        model=args.inference_id, query=args.query, documents=args.documents, top_n=args.top_n
    )
    for result in ranked.results:
        print(f"{result.relevance_score:.4f}\t{result.index}\t{args.documents[result.index]}")
    return 0


def _chat_once(client: InferenceClient, args: argparse.Namespace) -> int:
    conversation = Conversation(client, args.inference_id, args.system, args.max_tokens)
    try:
        conversation.ask(args.prompt, sys.stdout)
    except KeyboardInterrupt:
        print(file=sys.stdout)
        return 130
    return 0


class Conversation:
    """A multi-turn chat: the history, and one streamed answer per turn."""

    def __init__(
        self, client: InferenceClient, inference_id: str, system: str | None, max_tokens: int | None
    ):
        self._client = client
        self._inference_id = inference_id
        self._opening = [ChatMessage(role="system", content=system)] if system else []
        self._max_tokens = max_tokens
        self.history: list[ChatMessage] = list(self._opening)

    def reset(self) -> None:
        self.history = list(self._opening)

    def ask(self, text: str, out: TextIO) -> str:
        """Stream the answer to ``text`` to ``out``; the turn joins the history once the
        answer started (in full, or as far as it got when Ctrl-C stopped it)."""
        self.history.append(ChatMessage(role="user", content=text))
        try:
            stream: Stream = self._client.chat_completion(
                model=self._inference_id, messages=self.history, stream=True, max_tokens=self._max_tokens
            )
        except BaseException:
            self.history.pop()
            raise
        parts: list[str] = []
        try:
            with stream:
                for chunk in stream:
                    if chunk.content:
                        parts.append(chunk.content)
                        out.write(chunk.content)
                        out.flush()
        finally:
            out.write("\n")
            out.flush()
            answer = "".join(parts)
            if answer:
                self.history.append(ChatMessage(role="assistant", content=answer))
            else:
                self.history.pop()
        return answer

    def run(self, stdin: TextIO, out: TextIO) -> int:
        """The interactive loop; returns the exit code (0)."""
        if stdin.isatty():
            import readline  # noqa: F401  (line editing and history for input())
        print(f"Chatting with [{self._inference_id}]. {HELP}.", file=out, flush=True)
        while True:
            try:
                line = input(PROMPT)
            except EOFError:
                print(file=out)
                return 0
            except KeyboardInterrupt:
                print(file=out)
                continue
            text = line.strip()
            if not text:
                continue
            if text == "/exit":
                return 0
            if text == "/reset":
                self.reset()
                print("(conversation reset)", file=out, flush=True)
                continue
            try:
                self.ask(text, out)
            except KeyboardInterrupt:
                print("(stopped)", file=out, flush=True)
            except InferenceServiceError as exc:
                print(f"error: {exc}", file=sys.stderr, flush=True)
