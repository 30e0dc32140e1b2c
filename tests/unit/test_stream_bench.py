"""bench/stream_latency.py's arithmetic: files cut from lines, the nearest-rank percentile, the
file source's log and a Delta commit read back, the stream's progress line parsed, and the
latency of each file."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from jobs.stream import PROGRESS_LINE
from tests.conftest import REPO, load_script


def _bench() -> ModuleType:
    return load_script("bench_stream_latency", REPO / "bench" / "stream_latency.py")


def test_chunks_cut_lines_in_order_with_a_shorter_last_one() -> None:
    bench = _bench()
    assert list(bench.chunks(["a", "b", "c", "d", "e"], 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(bench.chunks([], 3)) == []
    with pytest.raises(ValueError, match="size"):
        list(bench.chunks(["a"], 0))


def test_lines_are_ordered_by_server_time_and_a_bad_line_keeps_its_place() -> None:
    bench = _bench()
    lines = [
        '{"event_id": "a", "server_ts": "2026-03-01T10:00:00Z"}',
        '{"event_id": "b", "server_ts": "2026-03-01T08:00:00Z"}',
        "not json",
        '["a list"]',
        '{"event_id": "c", "server_ts": "2026-03-01T09:00:00Z"}',
        '{"event_id": "d", "server_ts": "2026-03-01T08:00:00Z"}',
    ]
    assert bench.by_server_time(lines) == [lines[1], lines[2], lines[3], lines[5], lines[4], lines[0]]


def test_nearest_rank_percentile() -> None:
    bench = _bench()
    values = [float(v) for v in range(20, 0, -1)]  # 20 .. 1, unordered on purpose
    assert bench.nearest_rank(values, 0.5) == 10.0
    assert bench.nearest_rank(values, 0.95) == 19.0
    assert bench.nearest_rank(values, 1.0) == 20.0
    assert bench.nearest_rank([7.5], 0.95) == 7.5
    with pytest.raises(ValueError):
        bench.nearest_rank([], 0.5)


def test_source_log_entry_gives_each_files_path_and_batch() -> None:
    bench = _bench()

    def entry(batches: dict[int, int]) -> str:
        return "v1\n" + "\n".join(
            json.dumps({"path": f"file:///w/landing/dt=2026-03-01/bench-000{n}.json", "timestamp": 1,
                        "batchId": batch})
            for n, batch in batches.items()
        )

    assert bench.source_log_files(entry({1: 4, 2: 4})) == [
        ("file:///w/landing/dt=2026-03-01/bench-0001.json", 4), ("file:///w/landing/dt=2026-03-01/bench-0002.json", 4),
    ]
    # a compacted file (9.compact) holds the entries of batches 0 to 9, each with its own batch
    assert bench.source_log_files(entry({0: 0, 1: 0, 2: 9})) == [
        ("file:///w/landing/dt=2026-03-01/bench-0000.json", 0), ("file:///w/landing/dt=2026-03-01/bench-0001.json", 0),
        ("file:///w/landing/dt=2026-03-01/bench-0002.json", 9),
    ]
    with pytest.raises(ValueError):
        bench.source_log_files('{"path": "x"}')


def test_commit_batch_id_is_the_largest_batch_id_among_the_added_files() -> None:
    bench = _bench()

    def add(max_batch: int | None) -> str:
        stats = {"numRecords": 3, "maxValues": {} if max_batch is None else {"batch_id": max_batch}}
        return json.dumps({"add": {"path": "part.parquet", "stats": json.dumps(stats)}})

    commit = "\n".join([json.dumps({"commitInfo": {"operation": "MERGE"}}), add(2), add(5), add(None),
                        json.dumps({"remove": {"path": "old.parquet"}})])
    assert bench.commit_batch_id(commit) == 5
    assert bench.commit_batch_id(json.dumps({"commitInfo": {"operation": "OPTIMIZE"}})) is None


def test_progress_line_of_the_stream_is_read_back() -> None:
    bench = _bench()
    log = "\n".join([
        "05:39:16 chatlake stream: files source, watermark 10 min",
        "05:39:20 chatlake " + PROGRESS_LINE % (0, 3, "1,628", "8", "2", "1,606", 486, 12.0, 92.3),
        "05:39:40 chatlake " + PROGRESS_LINE % (1, 1, "500", "0", "0", "500", 9, -3.0, 4.0),
    ])
    assert bench.batch_lines(log) == [
        {"batch": 0, "files": 3, "lines": 1628, "bad": 8, "late": 2, "events": 1606, "minutes": 486, "seconds": 92.3},
        {"batch": 1, "files": 1, "lines": 500, "bad": 0, "late": 0, "events": 500, "minutes": 9, "seconds": 4.0},
    ]


def test_file_latency_is_its_batchs_commit_time_minus_its_landing() -> None:
    bench = _bench()
    landed = {"a.json": 100.0, "b.json": 110.0, "c.json": 120.0, "d.json": 130.0}
    batch_of_file = {"a.json": 0, "b.json": 1, "c.json": 2}  # d.json read by no batch
    visible = {0: 104.5, 1: 118.0}  # batch 2 committed no minutes
    assert bench.file_latencies(landed, batch_of_file, visible) == {
        "a.json": 4.5, "b.json": 8.0, "c.json": None, "d.json": None,
    }
