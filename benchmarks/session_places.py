"""Does planning session reminders stay bulk when sessions have fewer places than members?

Seeds members in groups of 10, one session each spread over the coming day, into a throwaway
SQLite file, or into DATABASE_URL if set (PostgreSQL: give it an empty database you can
throw away). Then it plans every session reminder of the day in one go
(`notifications.sources.plan_session_reminders`), twice: with no session having its own
places, and with --smaller percent of the sessions given 5 places (5 members saved one and 2
wait), so that only people with a place are reminded. It counts the rows planned and the
queries, and times the planning (best of --repeat).

    uv run python benchmarks/session_places.py [--members 100000] [--smaller 20]

The last lines are: session_places smaller=<n sessions> planned=<rows> queries=<n>
seconds=<best> places_seconds=<best time of finding who has a place, within seconds>
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import reminders  # noqa: E402 - the same seed and settings as the reminders benchmark

GROUP_SIZE = 10
PLACES, SAVED, WAITING = 5, 5, 2


def seed(members: int, start: dt.datetime) -> list[int]:
    """Members in groups of GROUP_SIZE, one session per group over the coming day (the
    reminders benchmark's dataset)."""
    from groups.models import GroupSession

    reminders.seed(members, members // GROUP_SIZE, start)
    return list(GroupSession.objects.order_by("pk").values_list("pk", flat=True))


def give_fewer_places(session_ids: list[int]) -> None:
    """PLACES places at each of these sessions: SAVED members have one, WAITING wait."""
    from groups.models import GroupSession, Membership, SessionBooking

    GroupSession.objects.filter(pk__in=session_ids).update(capacity=PLACES)
    group_of = dict(GroupSession.objects.filter(pk__in=session_ids).values_list("pk", "group"))
    people: dict[int, list[int]] = {}
    for group_id, user_id in (
        Membership.objects.filter(group_id__in=group_of.values())
        .order_by("pk")
        .values_list("group_id", "user_id")
    ):
        people.setdefault(group_id, []).append(user_id)
    SessionBooking.objects.bulk_create(
        (
            SessionBooking(session_id=session_id, user_id=user_id, status=status)
            for session_id, group_id in group_of.items()
            for n, user_id in enumerate(people[group_id][: SAVED + WAITING])
            for status in ["booked" if n < SAVED else "waiting"]
        ),
        batch_size=5000,
    )


def plan_day(start: dt.datetime, repeat: int) -> tuple[int, int, float, float]:
    """Plan every reminder of the day at once: (rows, queries, best seconds, best seconds of
    finding the people with a place alone)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from groups.bookings import people_with_places
    from groups.models import GroupSession
    from notifications.sources import plan_session_reminders

    since, until = start - dt.timedelta(days=3), start + dt.timedelta(hours=25)
    capacities = list(GroupSession.objects.values_list("pk", "group_id", "capacity"))
    best = best_places = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            rows = sum(len(chunk) for chunk in plan_session_reminders(since=since, now=until))
        best = min(best, time.perf_counter() - t)
        t = time.perf_counter()
        people_with_places(capacities)
        best_places = min(best_places, time.perf_counter() - t)
    return rows, len(queries), best, best_places


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--smaller", type=int, default=20, help="percent of the sessions")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = reminders.configure()

    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    t = time.perf_counter()
    session_ids = seed(args.members, start)
    print(f"seeded {args.members} members in {len(session_ids)} groups of {GROUP_SIZE} "
          f"in {time.perf_counter() - t:.1f}s on {url.split(':', 1)[0]}")  # fmt: skip
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    results = [(0, *plan_day(start, args.repeat))]
    smaller = session_ids[:: max(round(100 / args.smaller), 1)] if args.smaller else []
    give_fewer_places(smaller)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    results.append((len(smaller), *plan_day(start, args.repeat)))
    for count, rows, queries, seconds, places_seconds in results:
        print(
            f"session_places members={args.members} sessions={len(session_ids)} "
            f"smaller={count} planned={rows} queries={queries} seconds={seconds:.2f} "
            f"places_seconds={places_seconds:.3f}"
        )


if __name__ == "__main__":
    main()
