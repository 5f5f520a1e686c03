"""BERT's WordPiece tokenizer, as Hugging Face ``tokenizers`` runs it for an uncased BERT model.

The bundled encoders (all-MiniLM-L6-v2, SPLADE-tiny) share the ``bert-base-uncased`` vocabulary
and a ``tokenizer.json`` with ``BertNormalizer`` (clean text, pad CJK ideographs, strip accents,
lower-case), ``BertPreTokenizer`` (split on whitespace and on every punctuation character),
``WordPiece`` (greedy longest match, ``##`` continuations, ``[UNK]`` for a word that cannot be
split or is longer than ``max_input_chars_per_word``) and ``[CLS] … [SEP]`` around the result.
This is that pipeline in plain Python, so the service needs no tokenizer package; the unit
tests compare it with ``tokenizers`` token for token.

Truncation is ours to do, because llama.cpp refuses an input longer than its batch instead of
cutting it: :meth:`WordPieceTokenizer.encode` keeps the first ``max_length - 2`` pieces, as
sentence-transformers does (``max_seq_length``), and says whether it cut.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)

_WHITESPACE = frozenset(" \t\n\r\x0b\x0c\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
"""Unicode's White_Space property (what the Rust tokenizer splits on)."""


def _is_control(char: str) -> bool:
    """Control, format, private-use and surrogate characters (not unassigned ones, which stay
    and make their word ``[UNK]``)."""
    return char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def _is_cjk(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _CJK)


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


_ASCII_CLEAN: dict[int, str | None] = {c: None for c in range(32) if chr(c) not in "\t\n\r"}
_ASCII_CLEAN.update({127: None, 9: " ", 10: " ", 13: " "})
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_ASCII_WORDS = re.compile(rf"[^ {_ASCII_PUNCT}]+|[{_ASCII_PUNCT}]")
"""After normalisation an ASCII text holds no whitespace but spaces."""


def normalize(text: str) -> str:
    """``BertNormalizer`` with ``lowercase`` (and so ``strip_accents``) on."""
    if text.isascii():
        return text.translate(_ASCII_CLEAN).lower()
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if char in _WHITESPACE:
            out.append(" ")
        elif _is_cjk(code):
            out.append(f" {char} ")
        else:
            out.append(char)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    # Character by character, as the Rust tokenizer does (no final-sigma rule).
    return "".join(c.lower() for c in decomposed if unicodedata.category(c) != "Mn")


def pre_tokenize(text: str) -> list[str]:
    """``BertPreTokenizer``: words split on whitespace, each punctuation character its own word."""
    if text.isascii():
        return _ASCII_WORDS.findall(text)
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if char in _WHITESPACE:
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(char):
            if current:
                words.append("".join(current))
                current = []
            words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


@dataclass(frozen=True, slots=True)
class Encoding:
    ids: list[int]
    """Token ids, ``[CLS]`` first and ``[SEP]`` last."""
    truncated: bool


class WordPieceTokenizer:
    def __init__(
        self,
        vocab: dict[str, int],
        *,
        unk: str = "[UNK]",
        cls: str = "[CLS]",
        sep: str = "[SEP]",
        prefix: str = "##",
        max_chars_per_word: int = 100,
        special: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.vocab = vocab
        self._special = (
            re.compile("(" + "|".join(re.escape(t) for t in sorted(special, key=len, reverse=True)) + ")")
            if special
            else None
        )
        self.unk_id = vocab[unk]
        self.cls_id = vocab[cls]
        self.sep_id = vocab[sep]
        self.prefix = prefix
        self.max_chars_per_word = max_chars_per_word
        self._cache: dict[str, tuple[int, ...]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        """From a Hugging Face ``tokenizer.json`` holding an uncased BERT WordPiece tokenizer."""
        with path.open(encoding="utf-8") as f:
            spec = json.load(f)
        model = spec.get("model", {})
        normalizer = spec.get("normalizer") or {}
        if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
            raise ValueError(f"{path} is not a BERT WordPiece tokenizer")
        if not normalizer.get("lowercase", False) or normalizer.get("strip_accents") is False:
            raise ValueError(f"{path}: only uncased BERT tokenizers are supported")
        vocab = dict(model["vocab"])
        special: list[str] = []
        for token in spec.get("added_tokens", []):
            vocab[token["content"]] = token["id"]
            if token.get("normalized") is False:
                special.append(token["content"])
        return cls(
            vocab,
            special=special,
            unk=model.get("unk_token", "[UNK]"),
            prefix=model.get("continuing_subword_prefix", "##"),
            max_chars_per_word=model.get("max_input_chars_per_word", 100),
        )

    def _word(self, word: str) -> tuple[int, ...]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self.max_chars_per_word:
            pieces: tuple[int, ...] = (self.unk_id,)
        else:
            found: list[int] = []
            start = 0
            while start < len(word):
                end = len(word)
                piece = None
                while start < end:
                    candidate = word[start:end] if start == 0 else self.prefix + word[start:end]
                    piece = self.vocab.get(candidate)
                    if piece is not None:
                        break
                    end -= 1
                if piece is None:
                    found = [self.unk_id]
                    break
                found.append(piece)
                start = end
            pieces = tuple(found)
        if len(self._cache) < 100_000:
            self._cache[word] = pieces
        return pieces

    def pieces(self, text: str) -> list[int]:
        """The token ids of ``text`` without ``[CLS]``/``[SEP]``.

        Added tokens (``[CLS]``, ``[MASK]``…) written in the text are those tokens, as with
        Hugging Face's tokenizer; the text between them is normalised and split.
        """
        parts = self._special.split(text) if self._special is not None else [text]
        ids: list[int] = []
        for i, part in enumerate(parts):
            if i % 2:
                ids.append(self.vocab[part])
                continue
            for word in pre_tokenize(normalize(part)):
                ids.extend(self._word(word))
        return ids

    def encode(self, text: str, max_length: int) -> Encoding:
        """``[CLS]`` + the first ``max_length - 2`` pieces + ``[SEP]``."""
        ids = self.pieces(text)
        keep = max_length - 2
        truncated = len(ids) > keep
        return Encoding([self.cls_id, *ids[:keep], self.sep_id], truncated)
