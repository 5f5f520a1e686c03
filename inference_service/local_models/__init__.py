"""The bundled local models: their packages, and what running them in-process takes (a
WordPiece tokenizer, a GGUF header reader, the BERT to GGUF conversion, a numpy BERT)."""
