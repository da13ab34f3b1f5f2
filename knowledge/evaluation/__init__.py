"""Retrieval evaluation on the public XQuAD-R set in ../shared/eval/xquad_r."""
