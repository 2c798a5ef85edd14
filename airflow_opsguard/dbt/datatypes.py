"""A dbt column's ``data_type`` (the warehouse's own spelling) as a contract's column type."""

from __future__ import annotations

import re

_NAMES = {
    "integer": (
        "int int1 int2 int4 int8 int16 int32 int64 integer bigint smallint tinyint mediumint "
        "hugeint ubigint uinteger usmallint utinyint uhugeint byteint long short serial "
        "bigserial smallserial"
    ),
    "float": "float float4 float8 float32 float64 double real double_precision",
    "decimal": "decimal numeric number bignumeric bigdecimal dec money",
    "string": (
        "varchar text string char character character_varying nvarchar nchar bpchar "
        "longtext mediumtext tinytext clob nvarchar2 varchar2 name"
    ),
    "boolean": "boolean bool logical",
    "date": "date",
    "timestamp": (
        "timestamp datetime timestamptz timestamp_ntz timestamp_ltz timestamp_tz "
        "timestamp_with_time_zone timestamp_without_time_zone timestamp_with_local_time_zone "
        "timestamp_s timestamp_ms timestamp_ns timestamp_us datetime2 datetimeoffset "
        "smalldatetime"
    ),
}
_TYPES = {name: ours for ours, names in _NAMES.items() for name in names.split()}
# "varchar(255)", "decimal(10, 2)", "timestamp(6) with time zone": the size does not matter.
_SIZES = re.compile(r"\([^)]*\)")


def contract_type(data_type: str) -> str | None:
    """The contract's type for a dbt ``data_type``, or None when there is none
    (``json``, ``array<int>``, ``struct<...>``, ``interval``, ``time``, ...)."""
    words = _SIZES.sub(" ", data_type).lower().split()
    return _TYPES.get("_".join(words)) if words else None
