"""Profile the benchmark's pages in-process: queries, query time and total time per request.

    uv run python benchmarks/load/profile_pages.py [--pages group_list,dashboard] [--repeat 20]
        [--sql] [--cprofile]      (PROFILE_SORT=tottime to sort the profile by own time; the
        profile counts this process's CPU time, so waiting for the database is left out)

Uses the seeded ps_load database (run seed.py first) and Django's test client, signed in as
the same people as run.py. For each page: the number of SQL queries
(CaptureQueriesContext), their total time, and the median wall-clock and CPU time of this
process (the web server's share, without the database's) per request over --repeat
requests. --sql prints each query with its time, slowest first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def pages() -> dict[str, tuple[str | None, str]]:
    """page -> (email of the person signed in or None, path)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(m.group_id) FROM groups_membership m"
            " JOIN accounts_user u ON u.id = m.user_id"
            " JOIN groups_group g ON g.id = m.group_id AND g.status = 'open'"
            " WHERE u.email = %s AND m.status = 'member'",
            [common.member_email(0)],
        )
        (group_id,) = cursor.fetchone()
        cursor.execute(
            "SELECT MIN(p.id) FROM programmes_programme p JOIN programmes_staffmembership s"
            " ON s.organisation_id = p.organisation_id JOIN accounts_user u ON u.id = s.user_id"
            " WHERE u.email = %s AND p.status = 'open'",
            [common.coordinator_email(0)],
        )
        (programme_id,) = cursor.fetchone()
    member, coordinator = common.member_email(0), common.coordinator_email(0)
    return {
        "trivial": (None, "/healthz"),
        "directory": (None, "/programmes/"),
        "group_list": (member, "/groups/"),
        "group_page": (member, f"/groups/{group_id}/"),
        "my_sessions": (member, "/my/sessions/"),
        "dashboard": (coordinator, "/manage/"),
        "referral_inbox": (coordinator, f"/manage/programmes/{programme_id}/referrals/"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", default="")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sql", action="store_true", help="print every query, slowest first")
    parser.add_argument(
        "--cprofile", action="store_true", help="print the functions that took the most time"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DEBUG", "false")
    common.setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    found = pages()
    wanted = [p for p in args.pages.split(",") if p] or list(found)
    for page in wanted:
        email, path = found[page]
        client = Client()
        if email:
            client.force_login(User.objects.get(email=email))
        response = client.get(path)  # warm up
        assert response.status_code == 200, (page, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        # Read them now: the next request's request_started signal empties the log.
        queries = list(captured.captured_queries)
        times, cpu_times = [], []
        for _ in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu_started) * 1000)
        sql_ms = sum(float(q["time"]) for q in queries) * 1000
        print(
            f"{page:15} queries={len(queries):3d} sql_ms={sql_ms:7.1f} "
            f"median_ms={statistics.median(times):7.1f} "
            f"cpu_ms={statistics.median(cpu_times):6.1f} {path}"
        )
        if args.cprofile:
            import cProfile
            import pstats

            # CPU time of this process: the web server's cost, not the wait for the database.
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(args.repeat):
                client.get(path)
            profiler.disable()
            order = os.environ.get("PROFILE_SORT", "cumulative")
            pstats.Stats(profiler).sort_stats(order).print_stats(
                int(os.environ.get("PROFILE_LINES", "40"))
            )
        if args.sql:
            for query in sorted(queries, key=lambda q: -float(q["time"])):
                print(f"    {float(query['time']) * 1000:7.1f} ms  {query['sql'][:400]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
