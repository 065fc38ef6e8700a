"""Vectorised builders: random draws and the Arrow columns made from them.

No row-by-row Python: strings are assembled by Arrow kernels from small vocabularies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scripts.data.thelook.schema import TIMESTAMP


def pick(
    rng: np.random.Generator, mix: Mapping, n: int, vocabulary: Sequence | None = None
) -> np.ndarray:
    """Draw ``n`` keys of ``mix`` with its probabilities (renormalised), as positions in
    ``vocabulary`` (default: in the mix)."""
    cumulative = np.cumsum(np.fromiter(mix.values(), float, len(mix)))
    codes = np.searchsorted(cumulative / cumulative[-1], rng.random(n), side="right")
    positions = [(vocabulary or list(mix)).index(key) for key in mix]
    return np.array(positions, dtype=np.int64)[codes]


def pick_within(
    rng: np.random.Generator, members: Sequence[np.ndarray], group: np.ndarray
) -> np.ndarray:
    """For each row, a member of its group drawn uniformly; ``members[g]`` lists group g's."""
    sizes = np.array([len(m) for m in members])
    starts = np.cumsum(sizes) - sizes
    return np.concatenate(members)[starts[group] + rng.integers(0, sizes[group])]


def draw(rng: np.random.Generator, mix: Mapping[str, float], n: int) -> pa.Array:
    """Draw ``n`` labels of ``mix`` with its probabilities."""
    return labels(list(mix), pick(rng, mix, n))


def labels(vocabulary: Sequence[str], codes: np.ndarray) -> pa.DictionaryArray:
    """A text column from codes into a small vocabulary, dictionary-encoded: no per-row strings
    are built, and Parquet stores it as the dictionary it is."""
    # Parquet output is only deterministic for a dictionary without repeated values.
    distinct = {word: i for i, word in enumerate(dict.fromkeys(vocabulary))}
    position = np.array([distinct[word] for word in vocabulary], dtype=np.int32)
    return pa.DictionaryArray.from_arrays(position[codes], pa.array(list(distinct), pa.string()))


def words(vocabulary: Sequence[str], codes: np.ndarray) -> pa.Array:
    """Like ``labels`` but plain strings, to build other strings from."""
    return pa.array(vocabulary, pa.string()).take(codes)


def text(values: np.ndarray | pa.Array) -> pa.Array:
    return pc.cast(values, pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate string columns and literals row by row."""
    return pc.binary_join_element_wise(*parts, "")


def digits(rng: np.random.Generator, widths: np.ndarray) -> pa.Array:
    """Random digit strings of the given widths, zero-padded ("0042")."""
    scale = 10 ** widths.astype(np.int64)
    # 10^w + r has w + 1 digits and starts with "1": dropping it leaves r zero-padded.
    return pc.utf8_slice_codeunits(text(scale + rng.integers(0, scale)), 1)


_HEX_PAIRS = np.array([f"{b:02x}".encode() for b in range(256)]).view(np.uint16)


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random (version 4) UUID strings drawn from ``rng``, so they follow the seed."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hex_text = _HEX_PAIRS[raw].view(np.uint8)  # (n, 32) ASCII hex digits
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    groups = np.split(hex_text, [8, 12, 16, 20], axis=1)
    chars = np.concatenate(
        [groups[0], dash, groups[1], dash, groups[2], dash, groups[3], dash, groups[4]], axis=1
    )
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """UTC timestamps from epoch seconds; ``null`` marks the missing ones."""
    return pa.array(seconds * 1_000_000, TIMESTAMP, mask=null)


def sequence(first: int, n: int) -> np.ndarray:
    return np.arange(first, first + n, dtype=np.int64)


def ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[i] - 1 for each group i, concatenated."""
    return np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """starts[i], ..., starts[i] + counts[i] - 1 for each group i, concatenated."""
    return np.repeat(starts, counts) + ranks(counts)
