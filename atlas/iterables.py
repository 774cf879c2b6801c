"""Small helpers over iterables."""

from collections.abc import Iterable, Iterator
from itertools import islice


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items (the last may be shorter), taken lazily: itertools.batched of
    Python 3.12, for the 3.11 this project also runs on."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
