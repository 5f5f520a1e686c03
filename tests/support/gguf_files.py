"""Small GGUF files written with the ``gguf`` package: a header worth reading, one tensor."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np


def write_gguf(path: Path, arch: str = "llama", template: str | None = None, pooling: bool = False) -> Path:
    writer = gguf.GGUFWriter(path=None, arch=arch)
    writer.add_context_length(2048)
    writer.add_token_list(["<s>", "</s>", "hello", "wörld"])
    writer.add_token_scores([0.0, 0.0, -1.5, -2.5])
    writer.add_feed_forward_length([64, 128])
    if template is not None:
        writer.add_chat_template(template)
    if pooling:
        writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file(path=path)
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
