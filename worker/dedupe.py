"""Near-duplicate detection: word shingles, MinHash signatures (datasketch), LSH bands.

The LSH index itself lives in Redis (`worker.store`); this module only computes
signatures, band keys and similarity, so it is testable without a server.
The LSH threshold sits below the duplicate threshold and candidates are confirmed by
their estimated Jaccard similarity: banding at the duplicate threshold itself misses
copies (at 0.8 with 128 permutations a fifth of copies with a tenth of their sentences
removed were missed; at 0.5, 0.6 %).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from worker.text import fold

NUM_PERM = 128
SHINGLE_WORDS = 4
LSH_MARGIN = 0.2
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fingerprint:
    """What the index keeps of a document."""

    signature: np.ndarray
    bands: tuple[str, ...]


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = _WORD.findall(fold(text))
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) minimising false positives and negatives around `threshold`."""
    bands, rows = _optimal_param(max(0.05, threshold), num_perm, 0.5, 0.5)
    return int(bands), int(rows)


def lsh_threshold(duplicate_threshold: float) -> float:
    return max(0.1, duplicate_threshold - LSH_MARGIN)


def fingerprint(text: str, duplicate_threshold: float) -> Fingerprint:
    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch(list(shingles(text)))
    signature = minhash.hashvalues.astype(np.uint32)  # datasketch hashes are 32-bit
    return Fingerprint(signature, band_keys(signature, duplicate_threshold))


def band_keys(signature: np.ndarray, duplicate_threshold: float) -> tuple[str, ...]:
    bands, rows = lsh_params(lsh_threshold(duplicate_threshold))
    keys = []
    for band in range(bands):
        chunk = signature[band * rows : (band + 1) * rows].tobytes()
        keys.append(f"{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return tuple(keys)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(a == b)) / len(a)
