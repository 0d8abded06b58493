"""Locust user for the load benchmark: asks for one page again and again, with no pause.

benchmarks/load/run.py starts locust with this file once per page and sets LOAD_TARGETS to
a JSON file: a list of {"path": ..., "cookies": {...}} (one entry per signed-in person, or
one entry without cookies for an anonymous page). Simulated user n takes entry n modulo
its length, so the 50 users are spread over the signed-in people. Anything but a 200 (a
redirect to the sign-in page included) counts as an error.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["LOAD_TARGETS"], encoding="utf-8") as targets_file:
    TARGETS = json.load(targets_file)
_NEXT = itertools.count()


class PageUser(FastHttpUser):
    wait_time = constant(0)
    # One connection per simulated user, kept alive, as a browser would.
    concurrency = 1

    def on_start(self) -> None:
        target = TARGETS[next(_NEXT) % len(TARGETS)]
        self.path = target["path"]
        self.name = target.get("name", target["path"])
        cookies = target.get("cookies") or {}
        self.headers = {"Accept": "text/html"}
        if cookies:
            self.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())

    @task
    def page(self) -> None:
        with self.client.get(
            self.path,
            headers=self.headers,
            name=os.environ.get("LOAD_PAGE", "page"),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
