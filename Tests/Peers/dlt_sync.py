"""One run of a query-based sync written by others: dlt's sql_database source reads a MySQL table
with `SELECT ... WHERE updated_at >= last value` (its incremental cursor) and merges the rows into a
DuckDB file on the primary key, as dlt's documentation sets it up
(https://dlthub.com/docs/dlt-ecosystem/verified-sources/sql_database).

    python dlt_sync.py TABLE DUCKDB_FILE DATASET PIPELINES_DIR

The source's SQLAlchemy URL, password included, comes from the environment
(TOOLKIT_DLT_SOURCE), never from argv. Each run resumes from the cursor dlt keeps in PIPELINES_DIR.
"""
import os
import sys

import dlt
from dlt.sources.sql_database import sql_table

table, duckdb_file, dataset, pipelines_dir = sys.argv[1:5]
resource = sql_table(credentials=os.environ["TOOLKIT_DLT_SOURCE"], table=table,
                     incremental=dlt.sources.incremental("updated_at"),
                     primary_key="id", write_disposition="merge", backend="sqlalchemy")
pipeline = dlt.pipeline(pipeline_name="toolkit_sync", destination=dlt.destinations.duckdb(duckdb_file),
                        dataset_name=dataset, pipelines_dir=pipelines_dir)
print(pipeline.run(resource))
