"""A fake SMS provider on loopback: JSON in, de-duplicates on Idempotency-Key."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSmsProvider:
    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.requests: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.fail_next: list[int] = []  # HTTP statuses to answer with, in order
        self.hold = threading.Event()
        self.hold.set()
        self.hold_after: int | None = None  # block the request with this index until released
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key", "")
                with provider.lock:
                    index = len(provider.requests)
                    provider.requests.append(
                        {"body": body, "key": key, "auth": self.headers.get("Authorization")}
                    )
                    status = provider.fail_next.pop(0) if provider.fail_next else 200
                if provider.hold_after is not None and index >= provider.hold_after:
                    provider.hold.wait(30)
                if self.headers.get("Authorization") != f"Bearer {provider.token}":
                    status = 401
                if status == 200:
                    with provider.lock:
                        provider.delivered.setdefault(key, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"id": key[:12]}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSmsProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
