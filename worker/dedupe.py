"""Near-duplicate detection: word shingles, MinHash signatures, LSH bands.

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
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from worker.text import fold

if TYPE_CHECKING:
    import numpy as np

NUM_PERM = 128
SHINGLE_WORDS = 4
LSH_MARGIN = 0.2
_WORD = re.compile(r"\w+")
# datasketch 2's MinHash family ("affine32", seed 1): the first 32 bits of SHA-1 of each
# shingle, mixed once by MurmurHash3's finaliser, then h -> a*h + b in wrapping uint32
# arithmetic (odd a: a bijection). Kept bit for bit, so signatures already held in Redis
# stay comparable; computed here because importing datasketch pulls in scipy. numpy is
# imported by the functions that compute: a process that only polls and delivers (which
# imports the pipeline) does not load it (11 MB).
_FMIX = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
_EMPTY = 0xFFFFFFFF


@dataclass(frozen=True)
class Fingerprint:
    """What the index keeps of a document."""

    signature: np.ndarray
    bands: tuple[str, ...]


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    words = _WORD.findall(fold(text))
    if len(words) < size:
        return {" ".join(words).encode("utf-8")} if words else set()
    # Each word encoded once; a shingle is `size` consecutive ones joined by a space.
    encoded = [word.encode("utf-8") for word in words]
    count = len(encoded) - size + 1
    slices = (encoded[i : i + count] for i in range(size))
    return set(map(b" ".join, zip(*slices, strict=True)))


@lru_cache(maxsize=4)
def _permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    generator = np.random.RandomState(seed)
    a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(items: set[bytes], num_perm: int = NUM_PERM) -> np.ndarray:
    """The MinHash signature (uint32, `num_perm` values) of a set of shingles."""
    import numpy as np

    if not items:
        return np.full(num_perm, _EMPTY, dtype=np.uint32)
    sha1 = hashlib.sha1
    # Whole digests joined, their first 4 bytes taken by a stride (every fifth uint32 of
    # the 20-byte digests): no slice per shingle. The arithmetic is done in place.
    digests = b"".join([sha1(item, usedforsecurity=False).digest() for item in items])
    h = np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = (np.uint32(value) for value in _FMIX)
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    a, b = _permutations(num_perm)
    permuted = h * a
    permuted += b
    return permuted.min(axis=0)  # type: ignore[no-any-return]


def _integral(
    probability: Callable[[np.ndarray], np.ndarray], lower: float, upper: float
) -> np.ndarray:
    # Gauss-Legendre on [lower, upper]: exact enough to pick the same (bands, rows) as
    # an adaptive quadrature for these smooth polynomials, without scipy.
    nodes, weights = _gauss_legendre(64)
    s = (upper - lower) / 2 * nodes + (upper + lower) / 2
    return (upper - lower) / 2 * (probability(s) @ weights)  # type: ignore[no-any-return]


@lru_cache(maxsize=4)
def _gauss_legendre(points: int) -> tuple[np.ndarray, np.ndarray]:
    # An eigenvalue problem: computed once, not 2 x 256 times per threshold (that took
    # seconds, the first document of each worker process running past its soft limit).
    import numpy as np

    nodes, weights = np.polynomial.legendre.leggauss(points)
    return nodes, weights


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) minimising false positives and negatives around `threshold`."""
    import numpy as np

    threshold = max(0.05, threshold)
    best, chosen = float("inf"), (1, 1)
    for bands in range(1, num_perm + 1):
        rows = np.arange(1, num_perm // bands + 1, dtype=float)[:, None]

        def caught(s: np.ndarray, bands: int = bands, rows: np.ndarray = rows) -> np.ndarray:
            return 1 - (1 - s[None, :] ** rows) ** bands  # type: ignore[no-any-return]

        false_positive = _integral(caught, 0.0, threshold)
        false_negative = _integral(lambda s: 1 - caught(s), threshold, 1.0)
        error = 0.5 * false_positive + 0.5 * false_negative
        index = int(np.argmin(error))
        if error[index] < best:
            best, chosen = float(error[index]), (bands, index + 1)
    return chosen


def lsh_threshold(duplicate_threshold: float) -> float:
    return max(0.1, duplicate_threshold - LSH_MARGIN)


def fingerprint(text: str, duplicate_threshold: float) -> Fingerprint:
    signature = minhash(shingles(text))
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
    import numpy as np

    return float(np.count_nonzero(a == b)) / len(a)
