"""The spool that parks API objects between the fetch and the storage phase."""

from qlik.sync.fetch import Spool


def test_the_spool_gives_back_every_object_as_it_was_written(tmp_path):
    spool = Spool(str(tmp_path))
    objects = [
        {"id": "a", "name": "Ünïcode\nline", "n": 1, "x": 1.5, "none": None, "list": [True, {"k": "v"}]},
        {"id": "b", "size": 2**70},  # beyond orjson's integers: the json module's line
        {"id": "c", "size": -(2**63)},
    ]
    for obj in objects:
        spool.add("things", obj)
    back = list(spool.read("things"))
    assert back == objects
    assert isinstance(back[1]["size"], int)  # not a float
    assert spool.counts == {"things": 3}
    assert list(spool.read("nothing")) == []
