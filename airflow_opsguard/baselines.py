"""Baselines: drift references kept, versioned, in the results store.

A contract names one with ``distribution.baseline``; its newest version is the
reference the distribution checks compare with. Every run of such a contract keeps a
profile of its data (the distribution columns) with its verdict, so that accepting the
data as it is now is one step: :func:`promote_baseline` copies the last passing run's
profile (or a chosen run's) into the next version, recording who and why. A first
version comes from a promoted run, or from a profile file (:func:`save_baseline`);
until there is one the contract's ``reference`` is used if it has one, else the
distribution checks pass, saying they are learning.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_opsguard.drift.profile import Profile
from airflow_opsguard.drift.reference import Reference
from airflow_opsguard.errors import OpsGuardError, StoreError

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.store.baselines import StoredBaseline
    from airflow_opsguard.store.store import ResultStore


class BaselineError(OpsGuardError):
    """A baseline that does not exist, or a run that cannot be promoted."""


@dataclass(frozen=True)
class Baseline:
    """One version of a named baseline."""

    name: str
    version: int
    dataset: str
    profile: Profile
    run_id: str | None  # the promoted run; None for a profile saved from a file
    created_at: datetime
    created_by: str | None
    reason: str | None

    @property
    def label(self) -> str:
        """``orders@3``: how results and messages name this version."""
        return f"{self.name}@{self.version}"

    def to_dict(self, *, with_profile: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "dataset": self.dataset,
            "run_id": self.run_id,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "reason": self.reason,
            "rows": self.profile.rows,
            "columns": list(self.profile.names),
        }
        if with_profile:
            out["profile"] = self.profile.to_dict()
        return out


def reference_for(contract: Contract, store: ResultStore | None) -> Reference | None:
    """The distribution reference of a run, loaded once before the data is measured:
    the baseline's newest version in ``store`` (see :func:`baseline_reference`), or the
    contract's ``reference`` file. None for a contract without a ``distribution``."""
    section = contract.distribution
    if section is None:
        return None
    if section.baseline is not None:
        return baseline_reference(contract, store)
    from airflow_opsguard.engines.references import load_reference

    return load_reference(contract)


def baseline_reference(contract: Contract, store: ResultStore | None) -> Reference | None:
    """The reference of a contract with a baseline: its newest version in ``store``;
    else the contract's ``reference`` (a seed) if it has one; else a reference that says
    the checks are learning. None for a contract without a baseline. A store that
    cannot be read is the checks' error."""
    from airflow_opsguard.engines.references import load_reference

    section = contract.distribution
    if section is None or section.baseline is None:
        return None
    name = section.baseline
    if store is None:
        if section.reference is not None:
            return load_reference(contract)
        return Reference(
            f"baseline {name!r}",
            "",
            error=f"distribution.baseline: {name!r} is kept in a results store, and none was given",
        )
    try:
        found = get_baseline(name, store=store)
    except (StoreError, BaselineError) as exc:
        return Reference(f"baseline {name!r}", "", error=f"distribution.baseline: {exc}")
    if found is not None:
        return Reference(found.label, "", profile=found.profile)
    if section.reference is not None:
        return load_reference(contract)
    return Reference(
        f"baseline {name!r}",
        "",
        learning=f"no version of baseline {name!r} yet: drift is judged once a run is "
        f"promoted (opsguard baseline promote {name} --dataset {contract.dataset})",
    )


def get_baseline(
    name: str, version: int | None = None, *, store: ResultStore | str | None = None
) -> Baseline | None:
    """A version of baseline ``name`` (default: the newest), or None if there is none."""
    from airflow_opsguard.store.baselines import select_baseline
    from airflow_opsguard.store.store import using_store

    with using_store(store) as target, target.connection() as connection:
        stored = select_baseline(connection, name, version)
    return None if stored is None else _baseline(stored)


def list_baselines(
    name: str | None = None,
    *,
    dataset: str | None = None,
    store: ResultStore | str | None = None,
) -> list[Baseline]:
    """Every version of every baseline (or of one name, or one dataset's), newest first."""
    from airflow_opsguard.store.baselines import select_baselines
    from airflow_opsguard.store.store import using_store

    with using_store(store) as target, target.connection() as connection:
        stored = select_baselines(connection, name=name, dataset=dataset)
    return [_baseline(s) for s in stored]


def promote_baseline(
    name: str,
    *,
    dataset: str | None = None,
    run_id: str | None = None,
    store: ResultStore | str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> Baseline:
    """Make the profile of the last passing run of ``dataset`` (or of run ``run_id``,
    whatever its verdict: accepting a shift means promoting the run that failed on it)
    the next version of baseline ``name``. ``dataset`` defaults to the baseline's.
    Raises :class:`BaselineError` when there is no such run or it kept no profile."""
    from airflow_opsguard.store.baselines import insert_baseline, select_run_profile
    from airflow_opsguard.store.store import using_store

    with using_store(store) as target:
        if dataset is None:
            newest = get_baseline(name, store=target)
            if newest is None:
                raise BaselineError(
                    f"baseline {name!r} has no version yet: say which dataset's run to "
                    "promote (--dataset)"
                )
            dataset = newest.dataset
        with target.connection() as connection:
            found = select_run_profile(connection, dataset=dataset, run_id=run_id)
        if found is None and run_id is not None:
            raise BaselineError(f"run {run_id!r} of {dataset!r} is not stored or kept no profile")
        if found is None:
            raise BaselineError(
                f"no passing run of {dataset!r} kept a profile: runs keep one when their "
                "contract names distribution.baseline and results are stored"
            )
        profile = Profile.from_json(found.profile, origin=f"the profile of run {found.run_id}")
        with target.connection(write=True) as connection:
            stored = insert_baseline(
                connection,
                name=name,
                dataset=dataset,
                profile=profile.to_json(),
                run_id=found.run_id,
                created_by=by or _user(),
                reason=reason,
            )
    return _baseline(stored)


def save_baseline(
    name: str,
    profile: Profile,
    *,
    dataset: str,
    store: ResultStore | str | None = None,
    by: str | None = None,
    reason: str | None = None,
) -> Baseline:
    """Store ``profile`` (from ``opsguard profile`` or :func:`airflow_opsguard.profile`)
    as the next version of baseline ``name``."""
    from airflow_opsguard.store.baselines import insert_baseline
    from airflow_opsguard.store.store import using_store

    with using_store(store) as target, target.connection(write=True) as connection:
        stored = insert_baseline(
            connection,
            name=name,
            dataset=dataset,
            profile=profile.to_json(),
            run_id=None,
            created_by=by or _user(),
            reason=reason,
        )
    return _baseline(stored)


def _baseline(stored: StoredBaseline) -> Baseline:
    origin = f"baseline {stored.name}@{stored.version}"
    return Baseline(
        name=stored.name,
        version=stored.version,
        dataset=stored.dataset,
        profile=Profile.from_json(stored.profile, origin=origin),
        run_id=stored.run_id,
        created_at=stored.created_at,
        created_by=stored.created_by,
        reason=stored.reason,
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container without /etc/passwd entry
        return "unknown"
