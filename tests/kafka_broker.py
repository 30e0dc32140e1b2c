"""A real single-node Kafka broker (KRaft: broker and controller in one JVM) on 127.0.0.1.

Its jars are fetched with `mvn` from tests/kafka/pom.xml into build/kafka/ once; each start
formats a fresh log directory and runs `kafka.Kafka` with a two-listener config on free ports.
`KafkaUnavailableError` says exactly which step failed (no mvn, no network, no Java, no start).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO

POM = REPO / "tests" / "kafka" / "pom.xml"
JARS = REPO / "build" / "kafka"
READY_SECONDS = 120
FETCH_SECONDS = 600


class KafkaUnavailableError(RuntimeError):
    """A broker could not be started here; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch_jars() -> Path:
    """build/kafka/ with the broker's jars (fetched once; `.complete` marks a finished fetch)."""
    if (JARS / ".complete").is_file():
        return JARS
    if shutil.which("mvn") is None:
        raise KafkaUnavailableError("mvn is not on PATH: the broker's jars are fetched with Maven")
    if JARS.exists():
        shutil.rmtree(JARS)
    JARS.mkdir(parents=True)
    result = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={JARS}",
         "-DincludeScope=runtime"],
        capture_output=True, text=True, timeout=FETCH_SECONDS, check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise KafkaUnavailableError("mvn could not fetch the Kafka broker jars: " + " | ".join(tail))
    (JARS / ".complete").write_text("ok\n", encoding="utf-8")
    return JARS


def _java(classpath: Path, *args: str) -> list[str]:
    java = shutil.which("java")
    if java is None:
        raise KafkaUnavailableError("java is not on PATH")
    return [java, "-Xmx512m", "-XX:+UseSerialGC", "-cp", f"{classpath}/*", *args]


@contextmanager
def kafka_broker(work: Path) -> Iterator[str]:
    """Start a broker with its data under `work`; yields its bootstrap address, stops it after."""
    jars = fetch_jars()
    port, controller_port = _free_port(), _free_port()
    logs = work / "kafka-logs"
    properties = work / "server.properties"
    properties.write_text(
        "\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={logs}",
            "num.partitions=2",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "",
        ]),
        encoding="utf-8",
    )
    formatted = subprocess.run(
        _java(jars, "kafka.tools.StorageTool", "format", "-t", str(uuid.uuid4().hex[:22]), "-c", str(properties)),
        capture_output=True, text=True, timeout=READY_SECONDS, check=False,
    )
    if formatted.returncode != 0:
        raise KafkaUnavailableError(f"formatting the KRaft log dir failed: {formatted.stderr.strip()[-500:]}")
    log_file = (work / "broker.log").open("w", encoding="utf-8")
    broker = subprocess.Popen(_java(jars, "kafka.Kafka", str(properties)), stdout=log_file, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if broker.poll() is not None:
                raise KafkaUnavailableError(f"the broker exited with {broker.returncode}; see {work / 'broker.log'}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise KafkaUnavailableError(f"the broker did not listen within {READY_SECONDS}s") from None
                time.sleep(1)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        log_file.close()
