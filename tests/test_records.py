"""lib.records: one reader and one writer for the JSON-lines records of long runs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.errors import DataError, ParameterError
from lib.records import append_record, read_records

RECORDS = st.lists(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(
            st.integers(),
            st.text(max_size=20),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=4,
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(records=RECORDS, cut_after=st.integers(0, 5), keep=st.integers(1, 30))
def test_a_line_cut_by_a_kill_is_set_aside_and_never_glued_to(
    tmp_path_factory, records, cut_after, keep
):
    path = tmp_path_factory.mktemp("r") / "records.jsonl"
    cut_after = min(cut_after, len(records) - 1)
    for record in records[: cut_after + 1]:
        append_record(path, record)
    whole = path.read_bytes()
    fragment = json.dumps({"killed": "x" * 40}).encode()[:keep]  # a line cut short
    path.write_bytes(whole + fragment)
    for record in records[cut_after + 1 :] + [{"after": True}]:
        append_record(path, record)
    expected = records + [{"after": True}]
    assert read_records(path, made_by="test") == expected
    assert (path.parent / "records.jsonl.cut").read_bytes() == fragment + b"\n"


def test_a_record_json_cannot_hold_is_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "r.jsonl"
    append_record(path, {"a": 1})
    before = path.read_bytes()
    with pytest.raises(ParameterError, match="JSON"):
        append_record(path, {"a": float("nan")})
    with pytest.raises(ParameterError, match="JSON"):
        append_record(path, {"a": object()})
    with pytest.raises(ParameterError, match="record must be a dict"):
        append_record(path, [1])
    assert path.read_bytes() == before


def test_concurrent_appenders_never_interleave(tmp_path):
    import multiprocessing

    path = tmp_path / "r.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=lambda w: [
                append_record(path, {"w": w, "i": i, "pad": "x" * 5000})
                for i in range(50)
            ],
            args=(w,),
        )
        for w in range(3)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    rows = read_records(path, made_by="test")
    assert len(rows) == 150
    for w in range(3):
        assert [r["i"] for r in rows if r["w"] == w] == list(range(50))


def test_nothing_is_appended_to_a_file_that_is_not_a_record(tmp_path):
    from lib.errors import DataError
    from lib.records import check_appendable

    for name, data in [
        ("README.md", b"# notes\n\nmine\n"),
        ("nb.ipynb", b'{\n "cells": []\n}\n'),
        ("rows.jsonl", b"[1, 2]\n"),
        ("image.png", b"\x89PNG\r\n\x1a\n"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError, match="not a JSON-lines record"):
            append_record(path, {"a": 1})
        assert path.read_bytes() == data
    assert check_appendable(tmp_path / "new.jsonl") == tmp_path / "new.jsonl"
    (tmp_path / "empty.jsonl").write_bytes(b"")
    append_record(tmp_path / "empty.jsonl", {"a": 1})
    assert read_records(tmp_path / "empty.jsonl", made_by="test") == [{"a": 1}]


def test_a_resuming_reader_leaves_out_only_a_last_line_cut_by_a_kill(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"seed": 0}\n{"seed": 1, "steps"')
    with pytest.raises(DataError, match="r.jsonl:2"):
        read_records(path, made_by="test")
    assert read_records(path, made_by="test", skip_cut_tail=True) == [{"seed": 0}]
    path.write_text('{"seed": 0}\nnot json\n{"seed": 2}\n')  # not a cut: refused
    with pytest.raises(DataError, match="r.jsonl:2"):
        read_records(path, made_by="test", skip_cut_tail=True)
    path.write_text('{"seed": 0}\n{"seed": 1, "st\n')  # the newline is there: not a cut
    with pytest.raises(DataError, match="r.jsonl:2"):
        read_records(path, made_by="test", skip_cut_tail=True)
