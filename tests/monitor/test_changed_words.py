"""wp sync finds the descriptors a trapped write changed by comparing the table page before and
after: ``changed_words`` must name exactly the words that differ, one or a whole page of them."""

from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from hvd.monitor.mmu import changed_words

changes = st.dictionaries(st.integers(0, 1023), st.tuples(st.integers(0, 3), st.integers(1, 255)),
                          max_size=1024)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), changes)
def test_changed_words_names_exactly_the_words_that_differ(seed, change):
    old = random.Random(seed).randbytes(4096)
    new = bytearray(old)
    for word, (byte, flip) in change.items():
        new[4 * word + byte] ^= flip
    assert changed_words(old, bytes(new)) == sorted(4 * w for w in change)


def test_bulk_change_takes_the_plain_comparison():
    old = bytes(4096)
    new = b"\xff" * 4096
    assert changed_words(old, new) == list(range(0, 4096, 4))
