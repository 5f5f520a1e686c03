"""Which ``image_url`` parts a chat request may carry: an ``https`` URL or a base64 data URI.

The service never fetches an image itself: a URL goes to the provider, which fetches it. So
only what every image-reading provider of ours takes is let through, checked before any
provider is called (a 400 naming the part), on both faces:

- ``https://…``: the provider fetches it over TLS. ``http://`` is refused (the image would
  travel in clear, and OpenAI and Anthropic fetch only public https URLs), and so is every
  other scheme (``file:``, ``ftp:``…: never a provider's to read);
- ``data:<media type>;base64,<data>``: the image inline, as OpenAI and Anthropic take it (a
  data URI without ``;base64`` or without data cannot be sent on).
"""

from __future__ import annotations


def image_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an ``image_url`` part's URL, or None when it can."""
    scheme, colon, rest = url.partition(":")
    scheme = scheme.lower()
    if colon and scheme == "https":
        return None if rest.startswith("//") and len(rest) > 2 else "must be an https URL with a host"
    if colon and scheme == "data":
        header, comma, data = rest.partition(",")
        if comma and data and header.endswith(";base64") and "/" in header:
            return None
        return "must be a base64 data URI (data:<media type>;base64,<data>)"
    shown = f"scheme [{scheme}]" if colon and scheme.isascii() and scheme.isalnum() else "no URL scheme"
    return f"must be an https URL or a base64 data URI, got {shown}"
