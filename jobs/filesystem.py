"""Files outside Delta (landing folders, markers) through Hadoop's FileSystem, so that the
same code works on a local disk, HDFS and object stores."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pyspark.sql import SparkSession


def hadoop_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """The Hadoop FileSystem that holds `path`, and `path` as a Hadoop Path."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path


def exists(spark: SparkSession, path: str) -> bool:
    fs, hadoop_path = hadoop_fs(spark, path)
    return bool(fs.exists(hadoop_path))


def read_text(spark: SparkSession, path: str) -> str | None:
    """The whole (small) file as text, or None if it does not exist."""
    fs, hadoop_path = hadoop_fs(spark, path)
    if not fs.exists(hadoop_path):
        return None
    stream = fs.open(hadoop_path)
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def write_text(spark: SparkSession, path: str, text: str) -> None:
    fs, hadoop_path = hadoop_fs(spark, path)
    stream = fs.create(hadoop_path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def list_dirs(spark: SparkSession, path: str) -> list[str]:
    """Names of the sub-directories of `path` (empty if it does not exist)."""
    fs, hadoop_path = hadoop_fs(spark, path)
    if not fs.exists(hadoop_path):
        return []
    return sorted(str(s.getPath().getName()) for s in fs.listStatus(hadoop_path) if s.isDirectory())


def list_files(spark: SparkSession, path: str) -> list[str]:
    """Full paths of the files directly in `path` (empty if it does not exist)."""
    fs, hadoop_path = hadoop_fs(spark, path)
    if not fs.exists(hadoop_path):
        return []
    return sorted(str(s.getPath().toString()) for s in fs.listStatus(hadoop_path) if s.isFile())


def delete(spark: SparkSession, path: str) -> bool:
    fs, hadoop_path = hadoop_fs(spark, path)
    return bool(fs.delete(hadoop_path, True))


def hadoop_path_of(spark: SparkSession, path_or_uri: str) -> Any:
    """A Hadoop Path from a plain path or from a URI as Spark reports it (`_metadata.file_path`
    is percent-encoded; the plain Path constructor would encode it twice)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    if "://" in path_or_uri or path_or_uri.startswith("file:"):
        return jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(path_or_uri))
    return jvm.org.apache.hadoop.fs.Path(path_or_uri)


def read_chunks(spark: SparkSession, path: str, chunk_bytes: int = 8 << 20) -> Iterator[bytes]:
    """The file's bytes in pieces of at most `chunk_bytes`: a landing file can be larger than
    the driver should hold, or than a JVM array can (2 GiB)."""
    fs, hadoop_path = hadoop_fs(spark, path)
    stream = fs.open(hadoop_path)
    try:
        while chunk := bytes(stream.readNBytes(chunk_bytes)):
            yield chunk
    finally:
        stream.close()


WRITE_CHUNK_BYTES = 8 << 20


def replace_file(spark: SparkSession, path: str, pieces: Iterable[bytes]) -> None:
    """Write `pieces` (a file's content, as they are made) beside `path` as `.<name>.rewriting`,
    then swap it in.

    If the process dies in between, `finish_replacements` on the folder completes the swap
    (the side file is whole once the original is gone) or drops the half-written side file.
    """
    fs, target = hadoop_fs(spark, path)
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    side = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}{REWRITING_SUFFIX}")
    stream = fs.create(side, True)
    try:
        for piece in pieces:
            for start in range(0, len(piece), WRITE_CHUNK_BYTES):
                stream.write(bytearray(piece[start:start + WRITE_CHUNK_BYTES]))
    finally:
        stream.close()
    fs.delete(target, False)
    if not fs.rename(side, target):
        raise OSError(f"could not move {side} to {target}")


REWRITING_SUFFIX = ".rewriting"


def finish_replacements(spark: SparkSession, folder: str) -> int:
    """Complete or drop the side files a killed `replace_file` left in `folder`."""
    fs, hadoop_folder = hadoop_fs(spark, folder)
    if not fs.exists(hadoop_folder):
        return 0
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    finished = 0
    for status in fs.listStatus(hadoop_folder):
        name = str(status.getPath().getName())
        if not (name.startswith(".") and name.endswith(REWRITING_SUFFIX)):
            continue
        original = jvm.org.apache.hadoop.fs.Path(hadoop_folder, name[1:-len(REWRITING_SUFFIX)])
        if fs.exists(original):
            fs.delete(status.getPath(), False)
        else:
            fs.rename(status.getPath(), original)
            finished += 1
    return finished
