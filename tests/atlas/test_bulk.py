"""The bulk write path: staged COPY, one upsert of what changed, one delete of what vanished."""

import pytest
from django.db import DatabaseError, connection, transaction

from atlas.bulk import StagedUpsert
from atlas.rls import acting_as
from customers.services import customer_create, project_create
from qlik.models import QlikSpace


@pytest.fixture
def project(db, system_user):
    with acting_as(system_user):
        return project_create(
            customer=customer_create(name="Bulk Co", tenant_url="https://b.example"), name="B"
        )


def _space(project, n: int, name: str | None = None) -> QlikSpace:
    return QlikSpace(
        project=project, space_id=f"s{n}", spaceId=f"s{n}", spaceName=name or f"Space {n}", data={"n": n}
    )


def _write(project, spaces, keep=()):
    upsert = StagedUpsert(QlikSpace, key=("project", "space_id"), update=("spaceName", "spaceId", "data"))
    upsert.add(spaces)
    return upsert.apply(delete_scope={"project": project.pk}, keep=keep)


def _versions(project) -> dict[str, str]:
    """Each row's xmin: the transaction that last wrote it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT space_id, xmin::text FROM qlik_spaces WHERE project_id = %s", [project.pk])
        return dict(cursor.fetchall())


def test_unchanged_rows_are_not_written_changed_ones_are_and_vanished_ones_go(project, system_user):
    with acting_as(system_user):
        first = _write(project, [_space(project, n) for n in range(5)])
        assert (first.staged, first.written, first.deleted) == (5, 5, 0)
    with acting_as(system_user):
        before = _versions(project)
        again = _write(project, [_space(project, n, "Renamed" if n == 1 else None) for n in range(4)])
        after = _versions(project)
        assert (again.written, again.deleted) == (1, 1)  # one renamed, s4 vanished
        assert set(after) == {"s0", "s1", "s2", "s3"}
        assert after["s1"] != before["s1"]
        assert {k: after[k] for k in ("s0", "s2", "s3")} == {k: before[k] for k in ("s0", "s2", "s3")}
        assert QlikSpace.objects.get(project=project, space_id="s1").spaceName == "Renamed"


def test_a_key_staged_twice_keeps_its_last_copy_and_kept_keys_survive(project, system_user):
    with acting_as(system_user):
        _write(project, [_space(project, n) for n in range(3)])
        result = _write(project, [_space(project, 0, "First"), _space(project, 0, "Last")], keep=["s2"])
        assert result.deleted == 1  # s1; s2 was kept
        assert dict(QlikSpace.objects.filter(project=project).values_list("space_id", "spaceName")) == {
            "s0": "Last",
            "s2": "Space 2",
        }


def test_staged_rows_of_a_project_the_writer_may_not_see_are_refused_by_the_policy(project, system_user):
    from customers.models import User

    with acting_as(system_user):
        other = project_create(
            customer=customer_create(name="Other Co", tenant_url="https://o.example"), name="O"
        )
    outsider = User.objects.create_user(username="bulk-outsider", password="x")
    with acting_as(outsider), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        _write(other, [_space(other, 9)])
    with acting_as(system_user):
        assert not QlikSpace.objects.filter(project=other).exists()


def test_rows_as_field_values_are_written_as_model_instances_are(project, system_user):
    payload = {"n": 1, "nested": {"list": [1, 2.5, None, True], "text": "é\n\t\\"}, "big": 2**70}
    with acting_as(system_user):
        upsert = StagedUpsert(QlikSpace, key=("project", "space_id"), update=("spaceName", "data"))
        upsert.add(
            [
                {
                    "project_id": project.pk,
                    "space_id": "s1",
                    "spaceId": "s1",
                    "spaceName": "One",
                    "data": payload,
                }
            ]
        )
        upsert.add([_space(project, 2)])
        assert upsert.apply(delete_scope={"project": project.pk}, unique=True).written == 2
        one = QlikSpace.objects.get(project=project, space_id="s1")
        # The JSON went through orjson, but for the integer beyond 64 bits, which the ORM's
        # encoder writes; the fields left out took their defaults.
        assert one.data == payload and one.spaceName == "One" and one.ownerId == ""
        assert QlikSpace.objects.get(project=project, space_id="s2").data == {"n": 2}


def test_a_row_naming_no_field_of_the_model_is_refused_by_name(project, system_user):
    with acting_as(system_user):
        upsert = StagedUpsert(QlikSpace, key=("project", "space_id"), update=("spaceName",))
        with pytest.raises(ValueError, match=r"QlikSpace has no field \['spacename'\]"):
            upsert.add([{"project_id": project.pk, "space_id": "s1", "spacename": "typo"}])


def test_vanished_rows_go_whatever_the_planner_believes_of_the_table(project, system_user):
    """A scope written and then rewritten in one transaction (statistics from before both):
    the anti-join that finds what vanished must still be planned as a hash, not n²."""
    with acting_as(system_user):
        _write(project, [_space(project, n) for n in range(3000)])
        result = _write(project, [_space(project, n) for n in range(2990)])
        assert (result.written, result.deleted) == (0, 10)
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_nestloop")
            assert cursor.fetchone()[0] == "on"  # set for the delete alone


def test_a_staged_update_writes_only_the_rows_whose_fields_differ(project, system_user):
    from atlas.bulk import staged_update

    with acting_as(system_user):
        _write(project, [_space(project, n) for n in range(4)])
    with acting_as(system_user):  # another transaction, so a row written again has a new xmin
        before = _versions(project)
        names = {f"s{n}": f"Space {n}" for n in range(4)} | {"s2": "Renamed", "s9": "No such row"}
        updated = staged_update(
            QlikSpace,
            key=("project", "space_id"),
            fields=("spaceName",),
            rows=({"project": project.pk, "space_id": key, "spaceName": name} for key, name in names.items()),
        )
        after = _versions(project)
        assert updated == 1
        assert after["s2"] != before["s2"]
        assert {k: after[k] for k in ("s0", "s1", "s3")} == {k: before[k] for k in ("s0", "s1", "s3")}
        assert QlikSpace.objects.get(project=project, space_id="s2").spaceName == "Renamed"
        assert not QlikSpace.objects.filter(project=project, space_id="s9").exists()


def test_only_fields_that_prepare_values_the_plain_way_are_written_unprepared():
    from django.db import models

    from atlas.bulk import _as_is
    from atlas.fields import EncryptedTextField

    assert _as_is(models.TextField()) == (str, type(None))
    assert _as_is(models.BooleanField()) == (bool, type(None))
    assert _as_is(models.JSONField()) == ()
    assert _as_is(EncryptedTextField()) == ()  # a TextField that must still encrypt


def test_the_delete_leaves_a_callers_planner_setting_as_it_found_it(project, system_user):
    with acting_as(system_user):
        _write(project, [_space(project, n) for n in range(3)])
    with acting_as(system_user), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        assert _write(project, [_space(project, 0)]).deleted == 2
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "off"
