"""One MinHash signature helper for the near-duplicate checks (the contamination audit and the
document generator's deduplication), on `datasketch`."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from functools import cache

from datasketch import MinHash


@cache
def _template(num_perm: int) -> MinHash:
    """The permutations for `num_perm` (seed 1), computed once and shared by every signature."""
    return MinHash(num_perm=num_perm, seed=1)


def minhash(shingles: Iterable[str], num_perm: int) -> MinHash:
    """The MinHash signature of a set of shingles: crc32 hashes (fast, and the same in every
    process, unlike Python's `hash`) under the shared permutations of seed 1."""
    base = _template(num_perm)
    mh = MinHash(num_perm=num_perm, seed=1, permutations=base.permutations, scheme=base.scheme,
                 hashfunc=zlib.crc32)
    mh.update_batch([s.encode() for s in shingles])
    return mh
