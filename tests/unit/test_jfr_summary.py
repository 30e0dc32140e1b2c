"""bench/jfr_summary.py reads `jfr print` output into self and inclusive shares per method."""

from __future__ import annotations

from types import ModuleType

from tests.conftest import REPO, load_script

# Three samples as `jfr print --events jdk.ExecutionSample` writes them (trimmed).
PRINTED = """
jdk.ExecutionSample {
  startTime = 05:30:09.578
  sampledThread = "Executor task launch worker-1" (javaThreadId = 89)
  state = "STATE_RUNNABLE"
  stackTrace = [
    java.util.regex.Matcher.find() line: 745
    org.apache.spark.sql.catalyst.expressions.GeneratedClass$SpecificUnsafeProjection.RegExpReplace_0$(InternalRow)
    java.lang.Thread.run() line: 840
  ]
}

jdk.ExecutionSample {
  startTime = 05:30:10.001
  sampledThread = "Executor task launch worker-0" (javaThreadId = 88)
  state = "STATE_RUNNABLE"
  stackTrace = [
    com.fasterxml.jackson.core.json.ReaderBasedJsonParser.nextToken() line: 700
    org.apache.spark.sql.catalyst.json.JacksonParser.parse(Object, Function2, Function1) line: 300
    java.lang.Thread.run() line: 840
  ]
}

jdk.ExecutionSample {
  startTime = 05:31:00.000
  sampledThread = "Executor task launch worker-0" (javaThreadId = 88)
  state = "STATE_RUNNABLE"
  stackTrace = [
    java.util.regex.Matcher.find() line: 745
    java.lang.Thread.run() line: 840
  ]
}
"""


def _tool() -> ModuleType:
    return load_script("jfr_summary", REPO / "bench" / "jfr_summary.py")


def test_samples_are_parsed_with_their_clock_and_innermost_frame_first():
    tool = _tool()
    samples = list(tool.parse_samples(PRINTED))
    assert [(s.clock, s.frames[0], len(s.frames)) for s in samples] == [
        ("05:30:09", "java.util.regex.Matcher.find", 3),
        ("05:30:10", "com.fasterxml.jackson.core.json.ReaderBasedJsonParser.nextToken", 3),
        ("05:31:00", "java.util.regex.Matcher.find", 2),
    ]


def test_shares_count_only_the_window_and_leave_plumbing_out_of_inclusive():
    tool = _tool()
    summary = tool.summarise(tool.parse_samples(PRINTED), "05:30:00", "05:30:30", 3)
    assert summary.splitlines() == [
        "2 samples between 05:30:00 and 05:30:30",
        "",
        "self %  method",
        "  50.0  com.fasterxml.jackson.core.json.ReaderBasedJsonParser.nextToken",
        "  50.0  java.util.regex.Matcher.find",
        "",
        "incl %  method",
        "  50.0  com.fasterxml.jackson.core.json.ReaderBasedJsonParser.nextToken",
        "  50.0  java.util.regex.Matcher.find",
        "  50.0  org.apache.spark.sql.catalyst.expressions.GeneratedClass$SpecificUnsafeProjection.RegExpReplace_0$",
    ]
    assert tool.summarise(tool.parse_samples(PRINTED), "06:00:00", "07:00:00", 3) == (
        "no execution samples between 06:00:00 and 07:00:00"
    )
