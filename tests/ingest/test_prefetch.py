"""The read-ahead of source batches (`assets.ingest.prefetched`): same items, same errors, closed when left early."""

import threading

import pytest

from assets.ingest import prefetched


def _source(n, fail_at=None, closed=None, threads=None):
    try:
        for i in range(n):
            if threads is not None:
                threads.add(threading.get_ident())
            if i == fail_at:
                raise ValueError(f"broken at {i}")
            yield i
    finally:
        if closed is not None:
            closed.set()


def test_same_items_in_order_read_by_another_thread():
    threads: set[int] = set()
    assert list(prefetched(_source(50, threads=threads), depth=2)) == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_the_read_error_is_raised_to_the_caller_after_the_items_before_it():
    seen = []
    with pytest.raises(ValueError, match="broken at 7"):
        for item in prefetched(_source(20, fail_at=7)):
            seen.append(item)
    assert seen == list(range(7))


def test_leaving_early_closes_the_read():
    closed = threading.Event()
    items = prefetched(_source(10_000, closed=closed), depth=2)
    assert next(items) == 0
    items.close()
    assert closed.wait(5)


def test_an_error_of_the_caller_closes_the_read():
    closed = threading.Event()
    with pytest.raises(RuntimeError):
        for item in prefetched(_source(10_000, closed=closed)):
            if item == 3:
                raise RuntimeError("the warehouse failed")
    assert closed.wait(5)
