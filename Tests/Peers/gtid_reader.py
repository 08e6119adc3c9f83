"""A GTID-mode binlog reader that keeps its place as Singer's MySQL taps do.

It streams a MariaDB source with python-mysql-replication, keeps the GTID of the last GTID event
it read as its state (pipelinewise-tap-mysql writes that GTID into its state when it sees the
event), and after a lost connection resumes from that state. Reading slowly (--pause per row
event) keeps a large transaction in flight for a while.

Usage: gtid_reader.py --port N --user U --server-id N --start GTID --seconds S [--pause S]
                      [--state FILE] [--crash-after-rows N] [--rcvbuf BYTES]
The password comes from GTID_READER_PASSWORD. Prints one line per event of interest:
"gtid G", "rows N" (rows of write events so far), "lost: ERROR", "resume G".
--state writes the state (the GTID) to FILE whenever it changes; --crash-after-rows makes the
process die at once (as a tap killed mid-transaction does) after N rows, to be started again with
the saved state; --rcvbuf gives its socket a small receive buffer (a client on a small machine).
"""

import argparse
import os
import socket
import sys
import time

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.event import MariadbGtidEvent
from pymysqlreplication.row_event import WriteRowsEvent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--server-id", type=int, required=True)
    parser.add_argument("--start", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--pause", type=float, default=0)
    parser.add_argument("--state")
    parser.add_argument("--crash-after-rows", type=int)
    parser.add_argument("--rcvbuf", type=int)
    args = parser.parse_args()
    settings = {"host": "127.0.0.1", "port": args.port, "user": args.user,
                "passwd": os.environ["GTID_READER_PASSWORD"], "connect_timeout": 5}
    if os.environ.get("GTID_READER_PLAIN"):
        settings["ssl_disabled"] = True
    state = args.start
    rows = 0
    wrapper = small_buffer_connection(args.rcvbuf) if args.rcvbuf else pymysql.connections.Connection
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        stream = BinLogStreamReader(connection_settings=settings, server_id=args.server_id, blocking=True,
                                    is_mariadb=True, auto_position=state, pymysql_wrapper=wrapper,
                                    only_events=[MariadbGtidEvent, WriteRowsEvent])
        try:
            for event in stream:
                if isinstance(event, MariadbGtidEvent):
                    state = event.gtid
                    # The library reconnects by itself after a lost connection: from the state, as the tap does.
                    stream.auto_position = state
                    if args.state:
                        with open(args.state + ".new", "w") as file:
                            file.write(state)
                        os.replace(args.state + ".new", args.state)
                    print(f"gtid {state}", flush=True)
                elif isinstance(event, WriteRowsEvent):
                    rows += len(event.rows)
                    print(f"rows {rows}", flush=True)
                    if args.crash_after_rows and rows >= args.crash_after_rows:
                        os._exit(3)
                    if args.pause:
                        time.sleep(args.pause)
                if time.monotonic() >= deadline:
                    break
        except (pymysql.err.MySQLError, OSError, struct_error()) as error:
            print(f"lost: {error}", flush=True)
            time.sleep(0.5)
            print(f"resume {state}", flush=True)
        finally:
            stream.close()
    return 0


def small_buffer_connection(size):
    """A pymysql connection whose socket has a `size`-byte receive buffer, set before it connects."""
    def connect(**settings):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        sock.settimeout(settings.get("connect_timeout", 5))
        sock.connect((settings["host"], settings["port"]))
        connection = pymysql.connections.Connection(defer_connect=True, **settings)
        connection.connect(sock)
        return connection
    return connect


def struct_error():
    import struct
    return struct.error


if __name__ == "__main__":
    sys.exit(main())
