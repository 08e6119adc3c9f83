"""A query-based sync written by others: dlt's sql_database source reads a MySQL table with
`SELECT ... WHERE updated_at >= last value` (its incremental cursor) and merges the rows into the
destination on the primary key, as dlt's documentation sets it up
(https://dlthub.com/docs/dlt-ecosystem/verified-sources/sql_database).

    python dlt_sync.py TABLE DESTINATION DATASET PIPELINES_DIR [EVERY_SECONDS FOR_SECONDS]

DESTINATION is a DuckDB file, or `postgres` (its URL in TOOLKIT_DLT_DEST). The source's SQLAlchemy
URL, password included, comes from TOOLKIT_DLT_SOURCE, never from argv. With EVERY_SECONDS it runs
as a scheduler does, every EVERY_SECONDS for FOR_SECONDS, logging each run's outcome with a UTC
timestamp; a failed run is logged and the next one goes on from the cursor dlt kept.
"""
import datetime
import os
import sys
import time

import dlt
from dlt.sources.sql_database import sql_table

table, destination, dataset, pipelines_dir = sys.argv[1:5]
every, run_for = (float(sys.argv[5]), float(sys.argv[6])) if len(sys.argv) > 6 else (None, 0)


def log(text):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    print(f"{stamp} {text}", flush=True)


def sync():
    # primary_key=() on the cursor: rows at the last cursor value are told apart by their whole
    # content, so a row updated within the cursor's last second is loaded again.
    resource = sql_table(credentials=os.environ["TOOLKIT_DLT_SOURCE"], table=table,
                         incremental=dlt.sources.incremental("updated_at", primary_key=()),
                         primary_key="id", write_disposition="merge", backend="sqlalchemy")
    target = (dlt.destinations.postgres(os.environ["TOOLKIT_DLT_DEST"]) if destination == "postgres"
              else dlt.destinations.duckdb(destination))
    pipeline = dlt.pipeline(pipeline_name="toolkit_sync", destination=target, dataset_name=dataset,
                            pipelines_dir=pipelines_dir)
    return pipeline.run(resource)


if every is None:
    print(sync())
    sys.exit(0)
deadline = time.monotonic() + run_for
while time.monotonic() < deadline:
    started = time.monotonic()
    try:
        sync()
        log("INFO sync ok")
    except Exception as error:  # a scheduler logs a failed run and tries again at the next one
        cause = error
        while cause.__cause__ or cause.__context__:
            cause = cause.__cause__ or cause.__context__
        log(f"ERROR sync failed: {type(cause).__name__}: {cause}")
    time.sleep(max(0.0, every - (time.monotonic() - started)))
