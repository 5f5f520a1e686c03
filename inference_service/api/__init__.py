"""HTTP API: routes, request handling and response framing."""
