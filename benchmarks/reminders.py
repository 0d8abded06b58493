"""How fast is a whole day of group-session reminders?

Seeds a large programme (default 100,000 members in 10,000 groups of 10, one session each,
starting through the coming 24 hours) into a throwaway SQLite file, or into DATABASE_URL if
set (PostgreSQL: give it an empty database you can throw away). Then it plays the day: a beat
tick every 15 minutes of simulated time, each tick dispatched TWICE in this process (beat
firing twice), and every batch handed TWICE to a pool of sending processes (--workers, default
2 for a 2-core machine, like `celery worker --concurrency=2`), so the two copies race. E-mail
goes to the locmem backend (which builds each MIME message, as a real backend would). It
counts duplicates (messages handed to the e-mail backend, or written in-app, more than once)
and the queries of each send batch (CaptureQueriesContext).

`seconds` is wall-clock time for planning and sending the whole day; seeding the database
and migrating are not included.

    uv run python benchmarks/reminders.py [--members 100000] [--sessions 10000] [--workers 2]

The last line is: reminders members=<n> sessions=<n> sent=<n> duplicates=<n> seconds=<total>
queries_per_batch=<n>
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def configure() -> str:
    tmp = Path(tempfile.mkdtemp(prefix="reminders-bench-"))
    os.environ.setdefault("VAR_DIR", str(tmp))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # As in production: no query log, templates from the cached loader.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersupport.settings")
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def seed(members: int, sessions: int, start: dt.datetime) -> None:
    from accounts.models import User
    from groups.models import Group, GroupSession, Membership
    from programmes.models import Organisation, Programme

    org = Organisation.objects.create(name="Benchmark charity", slug="benchmark-charity")
    programme = Programme.objects.create(
        organisation=org,
        name="Benchmark programme",
        slug="benchmark-programme",
        summary="s",
        description="d",
        condition="c",
        privacy_notice="p",
        status="open",
    )
    User.objects.bulk_create(
        (
            User(email=f"member{i}@example.org", display_name=f"Member {i}", password="!")
            for i in range(members)
        ),
        batch_size=5000,
    )
    user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
    Group.objects.bulk_create(
        (Group(programme=programme, name=f"Group {i}", description="d") for i in range(sessions)),
        batch_size=5000,
    )
    group_ids = list(Group.objects.order_by("pk").values_list("pk", flat=True))
    day = dt.timedelta(hours=24)
    GroupSession.objects.bulk_create(
        (
            GroupSession(
                group_id=group_id,
                starts_at=start + day * (i + 1) / sessions,
                ends_at=start + day * (i + 1) / sessions + dt.timedelta(minutes=90),
                occurrence_date=(start + day * (i + 1) / sessions).date(),
            )
            for i, group_id in enumerate(group_ids)
        ),
        batch_size=5000,
    )
    Membership.objects.bulk_create(
        (
            Membership(group_id=group_ids[i % sessions], user_id=user_id, status="member")
            for i, user_id in enumerate(user_ids)
        ),
        batch_size=5000,
    )


def send_in_worker(batch: list[int], moment: dt.datetime) -> tuple[int, int, bool, list[str]]:
    """One send task in a worker process: (batch size, queries, sent any, Message-IDs)."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications import services

    mail.outbox = []
    connection.queries_log.clear()  # a bounded deque: keep counts exact
    with CaptureQueriesContext(connection) as queries:
        result = services.send_batch(ids=batch, now=moment)
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    mail.outbox = []
    return len(batch), len(queries), bool(result.sent), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--tick-minutes", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="sending processes (cores)")
    args = parser.parse_args()
    url = configure()

    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    from notifications import services
    from notifications.models import Delivery, DispatchMark, Notification

    call_command("migrate", verbosity=0)
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    t = time.perf_counter()
    seed(args.members, args.sessions, start)
    seeded = time.perf_counter() - t
    print(f"seeded {args.members} members, {args.sessions} sessions in {seeded:.1f}s "
          f"on {url.split(':', 1)[0]} (not timed below)")  # fmt: skip
    # Fresh tables: give the query planner statistics, as a database in use has.
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    # Steady state: the planner last ran a minute before the day starts.
    DispatchMark.objects.create(name="planner", planned_until=start - dt.timedelta(minutes=1))

    # The sending workers are forked processes, like a prefork Celery worker with
    # --concurrency=<cores>; each opens its own database connection.
    # Load the URL configuration before forking, as a worker that has been running has.
    reverse("notifications:preferences")
    # --workers 0 sends in this process (for profiling).
    connections.close_all()
    pool = multiprocessing.get_context("fork").Pool(args.workers) if args.workers else None
    send_all = pool.starmap if pool else lambda f, jobs, chunksize: [f(*job) for job in jobs]

    batch_queries: Counter = Counter()
    message_ids: Counter = Counter()
    dispatch_seconds = send_seconds = 0.0
    ticks = 0
    moment = start
    t_total = time.perf_counter()
    while moment <= start + dt.timedelta(hours=24):
        t = time.perf_counter()
        first = services.dispatch(now=moment)
        again = services.dispatch(now=moment)  # beat fired twice
        dispatch_seconds += time.perf_counter() - t
        t = time.perf_counter()
        # Every batch is handed out twice, and the two copies race in different workers.
        jobs = [(batch, moment) for batch in first.batches + again.batches for _ in range(2)]
        for size, queries, sent_any, ids in send_all(send_in_worker, jobs, chunksize=1):
            message_ids.update(ids)
            if sent_any:
                batch_queries[(size, queries)] += 1
        send_seconds += time.perf_counter() - t
        ticks += 1
        moment += dt.timedelta(minutes=args.tick_minutes)
    seconds = time.perf_counter() - t_total
    if pool:
        pool.close()
        pool.join()

    sent = Delivery.objects.filter(status="sent").count()
    email_dupes = sum(n - 1 for n in message_ids.values())
    in_app_sent = Delivery.objects.filter(status="sent", channel="in_app").count()
    in_app_dupes = Notification.objects.count() - in_app_sent
    statuses = dict(Counter(Delivery.objects.values_list("status", flat=True)))
    print(f"ledger: {statuses}")
    print(f"e-mails: {sum(message_ids.values())}  in-app: {Notification.objects.count()}")
    print(f"dispatch (planning + finding due rows, {ticks} ticks x 2): {dispatch_seconds:.1f}s; "
          f"sending ({args.workers} worker processes, every batch twice): "
          f"{send_seconds:.1f}s")  # fmt: skip
    full = {q for (size, q) in batch_queries if size == services.batch_size()}
    print(f"(batch size, queries) of sending batches: count {dict(batch_queries)}")
    per_batch = max(full or {q for (_size, q) in batch_queries} or {0})
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"cpu seconds: dispatcher {time.process_time():.1f}, "
          f"workers {children.ru_utime + children.ru_stime:.1f}")  # fmt: skip
    print("seconds = wall clock of planning + sending the whole day (seeding not included)")
    print(
        f"reminders members={args.members} sessions={args.sessions} sent={sent} "
        f"duplicates={email_dupes + in_app_dupes} seconds={seconds:.1f} "
        f"queries_per_batch={per_batch}"
    )


if __name__ == "__main__":
    main()
