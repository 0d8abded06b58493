"""Ask the web server for /healthz or /readyz; exit 0 when it answers 200.

Used by the container health checks and by scripts/prod.sh. The Host header is the first of
ALLOWED_HOSTS, so the probe passes Django's host check without adding internal names to it.

    python scripts/prod/probe.py [path] [--port PORT] [--wait SECONDS]
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time


def host_header() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def probe(port: int, path: str, timeout: float) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host_header()})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", default="/healthz")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--wait", type=float, default=0.0, help="keep trying for this long")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while True:
        status = probe(args.port, args.path, args.timeout)
        if status == 200:
            return 0
        if time.monotonic() >= deadline:
            print(f"{args.path}: {status or 'no answer'}", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
