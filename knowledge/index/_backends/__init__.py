"""Backends of the vector index, imported by `knowledge.index.connect_index` from its URL."""
