"""Wire-faithful fake LLM providers for tests that use real sockets.

- :mod:`tests.fakes.server`: :class:`~tests.fakes.server.FakeProvider`, a scripted HTTP/1.1
  server on 127.0.0.1 that records every request, and :class:`~tests.fakes.server.Reply`.
- :mod:`tests.fakes.openai` and :mod:`tests.fakes.anthropic`: byte-exact streams, bodies and
  error replies as each provider sends them.
- :mod:`tests.fakes.sse`: frame encoding and the recorded transcripts in ``tests/fixtures/sse``.
"""
