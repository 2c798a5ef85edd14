"""The bounded reader of contract files (and of GX suites and ODCS documents): repeated
keys, aliases, nesting, size, encodings, and messages that stay short whatever the input."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from airflow_opsguard import ContractError, load_contract
from airflow_opsguard.contract.loader import parse_contract_text
from airflow_opsguard.contract.safe_load import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    load_json,
    load_yaml,
    read_text,
)
from airflow_opsguard.contract.text import QUOTE_LIMIT, clip, short_repr


def refused(text: str, origin: str = "c.yml") -> str:
    with pytest.raises(ContractError) as caught:
        load_yaml(text, origin=origin)
    message = str(caught.value)
    assert "\n" not in message
    assert len(message) < 400, message
    return message


# ------------------------------------------------------------------ repeated keys


def test_a_second_checks_key_is_an_error_at_its_line() -> None:
    text = (
        "dataset: orders\n"
        "checks:\n"
        "  - {type: not_null, column: a}\n"
        "checks:\n"
        "  - {type: not_null, column: b}\n"
    )
    message = refused(text)
    assert message.startswith("c.yml:4: checks: the key is given twice")
    assert "first at line 2" in message


def test_a_key_repeated_in_a_flow_mapping_names_its_path() -> None:
    text = (
        "dataset: x\nschema:\n  columns:\n    - {name: a}\n    - {name: b, max: 10, max: 100000}\n"
    )
    message = refused(text)
    assert message.startswith("c.yml:5: schema.columns[1].max: the key is given twice")
    assert "first at line 5" in message


def test_keys_that_read_as_the_same_value_are_the_same_key() -> None:
    # YAML 1.1 reads `on` and `true` as the boolean True: one key, given twice.
    assert "given twice" in refused("a:\n  on: 1\n  true: 2\n")
    assert "given twice" in refused("a: {1: x, 0x1: y}\n")


def test_merge_keys_may_be_overridden_without_an_error() -> None:
    text = "defaults: &d {severity: warn, column: a}\nchecks:\n  - {<<: *d, severity: fail}\n"
    data, _ = load_yaml(text, origin="c.yml")
    assert data["checks"] == [{"severity": "fail", "column": "a"}]


def test_the_same_key_in_different_mappings_is_fine() -> None:
    data, _ = load_yaml("a: {max: 1}\nb: {max: 2}\n", origin="c.yml")
    assert data == {"a": {"max": 1}, "b": {"max": 2}}


def test_a_repeated_key_in_a_json_suite_is_an_error() -> None:
    with pytest.raises(ContractError, match=r"s\.json: the key 'kwargs' is given twice"):
        load_json('{"kwargs": {}, "kwargs": {}}', origin="s.json", what="GX suite")


# ------------------------------------------------------------------ aliases and nesting


def bomb(levels: int, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_built() -> None:
    message = refused(bomb(9))  # 9**9 = 387 million values once expanded
    assert f"more than {MAX_NODES:,} values" in message
    assert "alias" in message


def test_aliases_that_stay_within_the_limit_are_read() -> None:
    data, _ = load_yaml(bomb(3, width=3), origin="c.yml")
    assert len(data["a2"]) == 3 and data["a2"][0][0] == ["lol"] * 3


def test_an_alias_that_contains_itself_is_refused() -> None:
    assert "contains it" in refused("a: &a [1, *a]\n")
    assert "contains it" in refused("a: &a {b: *a}\n")


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_not() -> None:
    deepest = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    load_yaml(deepest, origin="c.yml")
    message = refused("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    assert message == f"c.yml:1: nested deeper than {MAX_DEPTH} levels, the limit for a contract"


def test_a_thousand_levels_are_refused_without_recursion() -> None:
    assert "nested deeper than" in refused("a: " + "[" * 1000 + "]" * 1000)
    assert "nested deeper than" in refused("a: " + "[" * 100_000)  # never closed
    block = "".join("  " * i + f"k{i}:\n" for i in range(200))
    assert "c.yml:65: nested deeper than" in refused(block)


def test_aliases_count_at_the_depth_they_are_used() -> None:
    half = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    assert "nested deeper than" in refused(text)


def test_more_written_values_than_the_limit_are_refused_while_scanning() -> None:
    text = "a: [" + ",".join(["1"] * MAX_NODES) + "]\n"
    assert f"more than {MAX_NODES:,} values" in refused(text)


# ------------------------------------------------------------------ files and text


def test_a_file_beyond_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_bytes(b"dataset: x\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(ContractError) as caught:
        read_text(path)
    assert str(caught.value) == f"{path}: larger than 10 MB, the limit for a contract file"


def test_a_device_that_never_ends_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(ContractError, match="larger than 10 MB"):
        read_text("/dev/zero")


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"]
)
def test_text_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "c.yml"
    bom = {
        "utf-16-le": codecs.BOM_UTF16_LE,
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32-be": codecs.BOM_UTF32_BE,
    }.get(encoding, b"")
    path.write_bytes(bom + "dataset: café\n".encode(encoding))
    assert load_contract(path).dataset == "café"


def test_binary_and_markless_utf16_files_are_refused_with_the_offset(tmp_path: Path) -> None:
    png = tmp_path / "logo.yml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(ContractError) as caught:
        load_contract(png)
    assert str(caught.value).startswith(f"{png}: not UTF-8 text (byte 0x89 at offset 0)")
    utf16 = tmp_path / "u.yml"
    utf16.write_bytes("dataset: x\n".encode("utf-16-le"))
    with pytest.raises(ContractError, match="UTF-16 or UTF-32 text without a byte order mark"):
        load_contract(utf16)


def test_a_control_character_is_refused_at_its_line() -> None:
    assert refused("dataset: x\ndescription: a\x00b\n").startswith("c.yml:2: not a YAML text")


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("2026-02-30", "not a valid date or timestamp"),
        ("1" * 5000, "not a valid whole number"),
    ],
)
def test_scalars_python_cannot_build_are_errors_at_their_line(value: str, what: str) -> None:
    message = refused(f"dataset: x\nvolume:\n  min_rows: {value}\n")
    assert message.startswith("c.yml:3: invalid YAML: ")
    assert what in message


def test_tags_that_would_run_code_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"dataset: !!python/object/apply:os.system ['touch {marker}']\n"
    assert "c.yml:1: invalid YAML" in refused(text)
    assert not marker.exists()


def test_an_empty_document_is_none_and_not_a_contract() -> None:
    assert load_yaml("# nothing\n", origin="c.yml") == (None, None)
    with pytest.raises(ContractError, match="a mapping with at least a 'dataset' key, not empty"):
        parse_contract_text("", origin="c.yml")
    with pytest.raises(ContractError, match="not a list"):
        parse_contract_text("- dataset: x\n", origin="c.yml")


def test_json_nesting_and_size_are_bounded() -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(ContractError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_json(deep, origin="s.json", what="GX suite")
    with pytest.raises(ContractError, match="nested deeper than"):
        load_json("[" * 200_000 + "]" * 200_000, origin="s.json", what="GX suite")
    with pytest.raises(ContractError, match="larger than 10 MB"):
        load_json(" " * (MAX_FILE_BYTES + 1), origin="s.json", what="GX suite")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_json("[" + "1" * 5000 + "]", origin="s.json", what="GX suite")
    ok = {"a": [[1]] * 3}
    assert load_json(json.dumps(ok), origin="s.json", what="GX suite") == ok


# ------------------------------------------------------------------ bounded messages


def test_a_huge_unknown_key_is_quoted_short() -> None:
    with pytest.raises(ContractError) as caught:
        # An explicit key ("? key"): a plain key is limited to 1024 characters by YAML.
        parse_contract_text(f"dataset: x\n? {'k' * 5_000_000}\n: 1\n", origin="c.yml")
    message = str(caught.value)
    assert message.startswith("c.yml:2: ")
    assert "unknown key 'kkkk" in message
    assert len(message) < 300


def test_a_huge_value_of_a_vocabulary_is_quoted_short() -> None:
    with pytest.raises(ContractError) as caught:
        parse_contract_text(f"dataset: x\non_fail: {'z' * 1_000_000}\n", origin="c.yml")
    assert "is not allowed; expected" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_a_list_of_many_bad_values_costs_one_problem() -> None:
    items = ",".join(["[]"] * 150_000)
    with pytest.raises(ContractError) as caught:
        parse_contract_text(
            f"dataset: x\nschema: {{columns: [{{name: a, allowed: [{items}]}}]}}\n", origin="c.yml"
        )
    message = str(caught.value)
    assert message.startswith("c.yml:2: schema.columns[0].allowed[0]: [] is not a string")
    assert "more problem" not in message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("x" * 10_000, "'" + "x" * (QUOTE_LIMIT - 2) + "…"),
        (10**5000, "<a whole number of 5000 digits>"),
        (list(range(1_000_000)), "[0, 1, 2, 3, 4, 5, 6, 7, …]"),
        ({"a": "b" * 1000}, "{'a': '" + "b" * (QUOTE_LIMIT - 8) + "…"),
        ("multi\nline", "'multi\\nline'"),
        (b"\x00" * 1000, repr(b"\x00" * 81)[: QUOTE_LIMIT - 1] + "…"),
    ],
    ids=["long-str", "huge-int", "long-list", "dict-of-long", "newline", "bytes"],
)
def test_short_repr_is_bounded_whatever_the_value(value: object, shown: str) -> None:
    text = short_repr(value)
    assert text == shown
    assert len(text) <= QUOTE_LIMIT


def test_a_list_that_contains_itself_is_quoted() -> None:
    cycle: list[object] = [1]
    cycle.append(cycle)
    assert short_repr(cycle) == "[1, [1, [1, …]]]"


def test_clip_folds_lines_and_cuts() -> None:
    assert clip("a\nb\tc") == "a b c"
    assert clip("x" * 100, 10) == "x" * 9 + "…"
    assert clip("short") == "short"
