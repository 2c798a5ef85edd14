"""The exceptions of airflow-opsguard.

Bad *data* never raises: it becomes failing checks in a result. These exceptions are
for what stops a check from running at all, each with a one-line message that names
the file, key or column at fault.
"""

from __future__ import annotations


class OpsGuardError(Exception):
    """Base class of every error raised by airflow-opsguard."""


class ContractError(OpsGuardError, ValueError):
    """A contract is invalid: the message names the file, the line and the key path."""


class DataSourceError(OpsGuardError):
    """The data cannot be read: a missing or corrupt file, an unknown format, a bad table.

    ``retryable`` says whether trying again later may help (a server that did not
    answer) or not (a file that is not Parquet).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class StoreError(OpsGuardError):
    """The results store cannot be opened or read."""
