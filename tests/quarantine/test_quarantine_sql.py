"""Write-audit-publish and quarantine in a database, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from quarantine_helpers import (
    BAD_IDS,
    CLEAN_IDS,
    ROWS,
    assert_nothing_lost,
    contract,
    create_tables,
    gate_batch,
    ids,
)

from airflow_opsguard.formats import load_contract
from airflow_opsguard.quarantine import service
from airflow_opsguard.store import ResultStore

ALL = list(range(1, ROWS + 1))


def wap(data_url: str, prefix: str, *, level: str = "batch", good: bool = False, **extra):
    staging, target = f"{prefix}staging", f"{prefix}orders"
    staged = CLEAN_IDS if good else ALL
    create_tables(data_url, staging, target, staged)
    spec = contract(
        source={"url": data_url, "table": staging}, level=level, publish_to=target, **extra
    )
    return load_contract(spec), staging, target, staged


def test_a_passing_batch_is_published_in_one_step(data_url: str, prefix: str, store_url: str):
    spec, staging, target, staged = wap(data_url, prefix, good=True)
    with ResultStore(store_url) as store:
        result, settled = gate_batch(spec, batch_id=prefix + "b1", store=store)
        assert result is not None and result.status == "pass"
        assert settled.action == "published" and settled.published_rows == len(staged)
        assert service.list_batches(store) == []
    assert ids(data_url, target) == staged
    assert ids(data_url, staging) == []


def test_a_failing_batch_moves_to_quarantine_with_its_reasons(
    data_url: str, prefix: str, store_url: str
):
    spec, staging, target, staged = wap(data_url, prefix)
    with ResultStore(store_url) as store:
        result, settled = gate_batch(spec, batch_id=prefix + "b1", store=store)
        assert result is not None and result.status == "fail"
        assert settled.action == "quarantined"
        (record,) = service.list_batches(store)
    assert record.kind == "table" and record.rows == ROWS
    assert record.location == f"{target}_quarantine" and record.run_id == result.run_id
    assert {r["check"] for r in record.reasons} == {"not_null(amount)", "allowed(country)"}
    assert ids(data_url, target) == [] and ids(data_url, staging) == []
    assert ids(data_url, f"{target}_quarantine") == staged
    engine = sa.create_engine(data_url)
    with engine.connect() as connection:
        meta = connection.execute(
            sa.text(
                f"SELECT DISTINCT _opsguard_batch_id, _opsguard_run_id, _opsguard_reasons "
                f"FROM {target}_quarantine"
            )
        ).all()
    engine.dispose()
    assert meta == [(prefix + "b1", result.run_id, "not_null(amount); allowed(country)")]


def test_rows_level_sets_bad_rows_aside_and_publishes_the_rest(
    data_url: str, prefix: str, store_url: str
):
    spec, _staging, target, staged = wap(data_url, prefix, level="rows")
    with ResultStore(store_url) as store:
        result, settled = gate_batch(spec, batch_id=prefix + "b1", store=store)
        assert result is not None and result.status == "fail"
        assert settled.action == "split" and settled.remaining_status == "pass"
        assert settled.record is not None
        assert (settled.record.rows, settled.record.clean_rows) == (len(BAD_IDS), len(CLEAN_IDS))
    quarantined = f"{target}_quarantine"
    assert ids(data_url, target) == CLEAN_IDS
    assert ids(data_url, quarantined) == BAD_IDS
    assert_nothing_lost(staged, ids(data_url, target), ids(data_url, quarantined))
    engine = sa.create_engine(data_url)
    with engine.connect() as connection:
        reasons = dict(
            connection.execute(sa.text(f"SELECT id, _opsguard_reasons FROM {quarantined}")).all()
        )
    engine.dispose()
    assert reasons[7] == "not_null(amount)"
    assert reasons[11] == "allowed(country)"
    assert reasons[14] == "not_null(amount)"


def test_rows_level_quarantines_the_whole_batch_when_the_rest_still_fails(
    data_url: str, prefix: str, store_url: str
):
    # Without its bad rows the batch is too small: volume is judged again and fails.
    spec, _staging, target, staged = wap(data_url, prefix, level="rows", min_rows=len(ALL))
    with ResultStore(store_url) as store:
        _, settled = gate_batch(spec, batch_id=prefix + "b1", store=store)
    assert settled.action == "quarantined"
    assert ids(data_url, target) == []
    assert ids(data_url, f"{target}_quarantine") == staged


def test_a_retried_gate_does_not_move_its_batch_twice(data_url: str, prefix: str, store_url: str):
    spec, staging, target, _staged = wap(data_url, prefix, level="rows")
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id=prefix + "b1", store=store)
        # The upstream task wrote again into staging meanwhile: a retry of the *same*
        # gate task must not take those rows as its batch.
        create_tables(data_url, staging, None, [1000])
        result, again = gate_batch(spec, batch_id=prefix + "b1", store=store)
        assert result is None and again.resumed and again.action == "split"
        assert len(service.list_batches(store)) == 1
    assert ids(data_url, target) == CLEAN_IDS
    assert ids(data_url, staging) == [1000]


def test_release_checks_again_then_publishes(data_url: str, prefix: str, store_url: str):
    spec, _staging, target, _staged = wap(data_url, prefix, level="rows")
    quarantined = f"{target}_quarantine"
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id=prefix + "b1", store=store)
        with pytest.raises(service.ReleaseRefused, match="not_null"):
            service.release(prefix + "b1", store=store, by="ana")
        assert service.get_batch(prefix + "b1", store).status == "quarantined"
        # A reviewer fixes the rows in the quarantine table, then releases them.
        engine = sa.create_engine(data_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f"UPDATE {quarantined} SET amount = 1, country = 'DE'"))
        engine.dispose()
        done = service.release(prefix + "b1", store=store, by="ana", reason="fixed by hand")
        assert done.rows == len(BAD_IDS) and done.check is not None
        assert done.check.status == "pass"
        record = service.get_batch(prefix + "b1", store)
    assert (record.status, record.reviewed_by, record.review_reason) == (
        "released",
        "ana",
        "fixed by hand",
    )
    assert record.review_run_id == done.check.run_id and record.forced is False
    assert ids(data_url, target) == list(range(1, ROWS + 1))
    assert ids(data_url, quarantined) == []


def test_forced_release_and_drop(data_url: str, prefix: str, store_url: str):
    spec, _staging, target, staged = wap(data_url, prefix)
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id=prefix + "b1", store=store)
        done = service.release(prefix + "b1", store=store, by="bo", force=True)
        assert done.check is None and done.record.forced is True
        # The gate task run again (cleared after the review) lets the run go on.
        result, again = gate_batch(spec, batch_id=prefix + "b1", store=store)
        assert result is None and again.action == "released" and again.lets_data_through
        with pytest.raises(service.QuarantineConflict, match="released already"):
            service.drop(prefix + "b1", store=store)
    assert ids(data_url, target) == staged

    spec, _staging, target, staged = wap(data_url, prefix + "x")
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id=prefix + "b2", store=store)
        dropped = service.drop(prefix + "b2", store=store, by="bo", reason="garbage")
        assert dropped.status == "dropped"
        assert service.get_batch(prefix + "b2", store).reviewed_by == "bo"
        assert [r.batch_id for r in service.list_batches(store, status="dropped")] == [
            prefix + "b2"
        ]
        assert service.count_batches(store, status="released") == 1
    assert ids(data_url, f"{target}_quarantine") == []
    with pytest.raises(service.QuarantineNotFound):
        service.get_batch("nope", store_url)


def test_a_target_without_the_batch_columns_moves_nothing(
    data_url: str, prefix: str, store_url: str
):
    staging, target = f"{prefix}staging", f"{prefix}orders"
    create_tables(data_url, staging, None, CLEAN_IDS)
    engine = sa.create_engine(data_url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE TABLE {target} (id INTEGER)"))
    engine.dispose()
    spec = load_contract(contract(source={"url": data_url, "table": staging}, publish_to=target))
    with ResultStore(store_url) as store, pytest.raises(Exception, match="no column 'amount'"):
        gate_batch(spec, batch_id=prefix + "b1", store=store)
    assert ids(data_url, staging) == CLEAN_IDS
    assert ids(data_url, target) == []
