"""Seed the load benchmark's own PostgreSQL database with a realistic dataset, fast.

    uv run python benchmarks/load/seed.py            # create ps_load, migrate, seed if needed
    uv run python benchmarks/load/seed.py --reset    # drop ps_load first and seed again

Default sizes: 20 organisations, 200 programmes, 50,000 members (people with an enrolment),
4,000 supporters, 3,000 groups with about 36,000 memberships, 100,000 sessions, 20,000
pairings (and 23,000 buddy requests), 30,000 referrals, 6,000 threads with 30,000 posts,
100,000 in-app notices and 50,000 delivery records. Rows are written with bulk_create in
batches; one password hash is made once and reused for everybody. A marker row says the
dataset is complete, so running the script again does nothing (a half-finished seed is
dropped and done again).

Everyone has the password in benchmarks/load/common.py; coordinators
(coordinator<org>-<n>@load.example) have the TOTP secret there too; members are
member<n>@load.example, and members 0-49 are each a member of three groups.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import secrets
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

SIZES = {
    "organisations": 20,
    "programmes": 200,
    "members": 50_000,
    "supporters": 4_000,
    "groups": 3_000,
    "sessions": 100_000,
    "pairings": 20_000,
    "waiting_requests": 3_000,
    "referrals": 30_000,
    "threads": 6_000,
    "posts": 30_000,
    "notifications": 100_000,
    "deliveries": 50_000,
}
POOL_MEMBERS = 50  # member0..member49 are each in three groups (the benchmark signs them in)
BATCH = 5000
LONDON = zoneinfo.ZoneInfo("Europe/London")
CONDITIONS = [
    "type 2 diabetes",
    "type 1 diabetes",
    "breast cancer",
    "bowel cancer",
    "long COVID",
    "heart failure",
    "kidney disease",
    "stroke",
    "COPD",
    "dementia",
    "caring for someone with dementia",
    "Parkinson's",
]
PARTS = ("morning", "afternoon", "evening")
TOWNS = ["Leeds", "Bradford", "York", "Sheffield", "Hull", "Wakefield", "online", "Harrogate"]


def _database_admin_url() -> tuple[str, str]:
    """(URL of the maintenance database, name of the benchmark database)."""
    base, _sep, name = common.DATABASE_URL.rpartition("/")
    return f"{base}/postgres", name


def database_exists() -> bool:
    import psycopg

    admin_url, name = _database_admin_url()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def ensure_database(*, reset: bool) -> None:
    import psycopg
    from psycopg import sql

    admin_url, name = _database_admin_url()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reset:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def is_seeded() -> bool:
    """True when the benchmark database exists, is migrated and holds a complete dataset."""
    if not database_exists():
        return False
    from django.db import connection
    from django.db.utils import ProgrammingError

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM programmes_organisation WHERE slug = %s", [common.MARKER_SLUG]
            )
            return cursor.fetchone() is not None
    except ProgrammingError:
        return False
    finally:
        connection.close()


def has_any_data() -> bool:
    from programmes.models import Organisation

    return Organisation.objects.exists()


class Seeder:
    def __init__(self, sizes: dict[str, int], *, seed: int = 9):
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.started = time.monotonic()
        from django.utils import timezone

        self.now = timezone.now()
        self.today = self.now.astimezone(LONDON).date()

    def log(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def bulk(self, model, objects: list) -> list:
        created = model.objects.bulk_create(objects, batch_size=BATCH)
        self.log(f"{model._meta.label}: {len(created):,}")
        return created

    def run(self) -> None:
        from django.db import connection, transaction

        with transaction.atomic():
            self.people()
            self.programmes()
            self.enrolments()
            self.groups()
            self.sessions()
            self.discussion()
            self.matching()
            self.referrals()
            self.notifications()
            self.spread_dates()
            from programmes.models import Organisation

            Organisation.objects.create(name="Load benchmark (complete)", slug=common.MARKER_SLUG)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.log("done (ANALYZE run)")

    # --- people -------------------------------------------------------------------------
    def people(self) -> None:
        from allauth.account.models import EmailAddress
        from allauth.mfa.totp.internal.auth import TOTP
        from django.contrib.auth.hashers import make_password

        from accounts.models import User

        password = make_password(common.PASSWORD)
        s = self.sizes
        users = []
        for org in range(s["organisations"]):
            for n in range(2):
                users.append(
                    User(
                        email=common.coordinator_email(org, n),
                        display_name=f"Coordinator {org}-{n}",
                        password=password,
                    )
                )
        for n in range(s["organisations"] * 10):
            users.append(
                User(
                    email=f"clinician{n}@{common.EMAIL_DOMAIN}",
                    display_name=f"Dr Clinician {n}",
                    password=password,
                )
            )
        for n in range(s["supporters"]):
            users.append(
                User(
                    email=f"supporter{n}@{common.EMAIL_DOMAIN}",
                    display_name=f"Supporter {n}",
                    password=password,
                )
            )
        for n in range(s["members"]):
            users.append(
                User(email=common.member_email(n), display_name=f"Member {n}", password=password)
            )
        users = self.bulk(User, users)
        n_coord = s["organisations"] * 2
        n_clin = s["organisations"] * 10
        self.coordinators = users[:n_coord]
        self.clinician_users = users[n_coord : n_coord + n_clin]
        self.supporter_users = users[n_coord + n_clin : n_coord + n_clin + s["supporters"]]
        self.member_users = users[n_coord + n_clin + s["supporters"] :]
        self.bulk(
            EmailAddress,
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        )
        for user in self.coordinators:
            TOTP.activate(user, common.TOTP_SECRET)
        self.log(f"TOTP authenticators: {len(self.coordinators)}")

    # --- organisations and programmes ---------------------------------------------------
    def programmes(self) -> None:
        from programmes.models import Organisation, Programme, StaffMembership

        s = self.sizes
        self.orgs = self.bulk(
            Organisation,
            [
                Organisation(
                    name=f"Load Health Charity {i}",
                    slug=f"load-charity-{i}",
                    contact_email=f"hello{i}@{common.EMAIL_DOMAIN}",
                )
                for i in range(s["organisations"])
            ],
        )
        self.bulk(
            StaffMembership,
            [
                StaffMembership(
                    organisation=self.orgs[i // 2],
                    user=user,
                    role="admin" if i % 2 else "coordinator",
                )
                for i, user in enumerate(self.coordinators)
            ],
        )
        programmes = []
        for j in range(s["programmes"]):
            condition = CONDITIONS[j % len(CONDITIONS)]
            status = {18: "draft", 19: "closed"}.get(j % 20, "open")
            programmes.append(
                Programme(
                    organisation=self.orgs[j % s["organisations"]],
                    name=f"{condition.capitalize()} peer support {j}",
                    slug=f"load-programme-{j}",
                    summary=f"Meet people who know what living with {condition} is like.",
                    description="You can join a friendly group that meets every week, "
                    "and ask for a buddy who has been through it too.",
                    audience=("patients", "caregivers", "both")[j % 3],
                    condition=condition,
                    formats=("groups", "one_to_one", "both")[j % 3],
                    area=TOWNS[j % len(TOWNS)],
                    capacity=None if j % 4 else 400,
                    status=status,
                    privacy_notice="We keep your name, contact details and the groups you "
                    "join, so we can run the programme. Only our staff see them.",
                    created_by=self.coordinators[(j % s["organisations"]) * 2],
                )
            )
        self.programmes = self.bulk(Programme, programmes)
        self.open_programmes = [p for p in self.programmes if p.status == "open"]

    # --- enrolments -----------------------------------------------------------------------
    def enrolments(self) -> None:
        from matching.models import SupporterProfile
        from programmes.models import Enrolment

        rng = self.rng
        enrolments = []
        n_open = len(self.open_programmes)
        for i, user in enumerate(self.member_users):
            programme = self.open_programmes[i % n_open]
            role = "caregiver" if rng.random() < 0.3 else "patient"
            status = "left" if (i >= POOL_MEMBERS and rng.random() < 0.05) else "active"
            enrolments.append(
                Enrolment(
                    programme=programme,
                    user=user,
                    role=role,
                    status=status,
                    consent_version=1,
                    left_at=self.now if status == "left" else None,
                )
            )
            if rng.random() < 0.1:
                other = self.open_programmes[(i * 7 + 3) % n_open]
                if other.pk != programme.pk:
                    enrolments.append(
                        Enrolment(programme=other, user=user, role=role, consent_version=1)
                    )
        for i, user in enumerate(self.supporter_users):
            enrolments.append(
                Enrolment(
                    programme=self.programmes[i % len(self.programmes)],
                    user=user,
                    role="supporter",
                    status="applied" if i % 10 == 9 else "active",
                    consent_version=1,
                )
            )
        enrolments = self.bulk(Enrolment, enrolments)
        self.member_enrolments = [e for e in enrolments if e.role != "supporter"]
        supporter_enrolments = [e for e in enrolments if e.role == "supporter"]
        profiles = [
            SupporterProfile(
                enrolment=e,
                lived_experience="I was diagnosed ten years ago and know how lonely it can be.",
                lived_roles=["patient"] if n % 3 else ["caregiver"],
                conditions=["type_2_diabetes"],
                experiences=["diagnosis", "treatment"],
                age_group=("30_44", "45_64", "65_79")[n % 3],
                languages=["en"],
                availability=(1 << 21) - 1,
                formats=["phone", "video", "messaging"],
                town="leeds" if n % 2 else "",
                capacity=1 + n % 6,
            )
            for n, e in enumerate(supporter_enrolments)
        ]
        profiles = self.bulk(SupporterProfile, profiles)
        self.profiles_by_programme: dict[int, list] = {}
        for profile in profiles:
            if profile.enrolment.status == "active":
                self.profiles_by_programme.setdefault(profile.enrolment.programme_id, []).append(
                    profile
                )
        self.members_by_programme: dict[int, list] = {}
        for e in self.member_enrolments:
            if e.status == "active":
                self.members_by_programme.setdefault(e.programme_id, []).append(e)

    # --- groups, memberships --------------------------------------------------------------
    def groups(self) -> None:
        from groups.models import Group, Membership

        rng = self.rng
        s = self.sizes
        per_programme = s["groups"] // len(self.programmes)
        groups = []
        for p in self.programmes:
            for k in range(per_programme):
                fmt = ("online", "in_person", "hybrid")[k % 3]
                groups.append(
                    Group(
                        programme=p,
                        name=f"{p.condition.capitalize()} {PARTS[k % 3]} group {k}",
                        description="A friendly group where we share what helps and what does not.",
                        audience=("patients", "caregivers", "both")[k % 3],
                        format=fmt,
                        venue_address=""
                        if fmt == "online"
                        else f"Community Centre, {TOWNS[k % len(TOWNS)]}",
                        meeting_link="https://meet.example.org/load" if fmt != "in_person" else "",
                        capacity=12,
                        join_policy="approval" if k % 5 == 4 else "open",
                        status="closed" if k % 15 == 14 else "open",
                    )
                )
        self.groups = self.bulk(Group, groups)
        through = Group.facilitators.through
        facilitators = []
        for group in self.groups:
            profiles = self.profiles_by_programme.get(group.programme_id)
            if profiles and rng.random() < 0.5:
                facilitators.append(
                    through(group_id=group.pk, user_id=rng.choice(profiles).enrolment.user_id)
                )
        through.objects.bulk_create(facilitators, batch_size=BATCH, ignore_conflicts=True)
        self.log(f"group facilitators: {len(facilitators):,}")

        groups_by_programme: dict[int, list] = {}
        for group in self.groups:
            groups_by_programme.setdefault(group.programme_id, []).append(group)
        self.groups_by_programme = groups_by_programme
        memberships = []
        taken: set[tuple[int, int]] = set()

        def add(group, user_id: int, status: str) -> None:
            if (group.pk, user_id) in taken:
                return
            taken.add((group.pk, user_id))
            memberships.append(
                Membership(
                    group=group,
                    user_id=user_id,
                    status=status,
                    joined_at=self.now if status == "member" else None,
                    waiting_since=self.now if status == "waiting" else None,
                )
            )

        # The members the benchmark signs in: each in three open groups of their programme.
        for e in self.member_enrolments:
            if e.user_id <= self.member_users[POOL_MEMBERS - 1].pk and e.status == "active":
                open_groups = [g for g in groups_by_programme[e.programme_id] if g.status == "open"]
                for group in open_groups[:3]:
                    add(group, e.user_id, "member")
        counts: dict[int, int] = {}
        for m in memberships:
            counts[m.group_id] = counts.get(m.group_id, 0) + 1
        for group in self.groups:
            people = self.members_by_programme.get(group.programme_id, [])
            if not people:
                continue
            wanted = rng.randint(7, 11)
            for e in rng.sample(people, min(len(people), wanted + 4)):
                if counts.get(group.pk, 0) < wanted:
                    add(group, e.user_id, "member")
                    counts[group.pk] = counts.get(group.pk, 0) + 1
                else:
                    add(group, e.user_id, rng.choice(("waiting", "pending", "left")))
        self.memberships = self.bulk(Membership, memberships)
        self.members_of_group: dict[int, list[int]] = {}
        for m in self.memberships:
            if m.status == "member":
                self.members_of_group.setdefault(m.group_id, []).append(m.user_id)

    # --- series, sessions, attendance -----------------------------------------------------
    def sessions(self) -> None:
        from groups.models import Attendance, GroupSession, SessionSeries

        s = self.sizes
        per_group, extra = divmod(s["sessions"], len(self.groups))
        past_weeks = per_group * 3 // 5
        series = []
        for n, group in enumerate(self.groups):
            start_date = self.today - dt.timedelta(weeks=past_weeks, days=n % 7)
            series.append(
                SessionSeries(
                    group=group,
                    frequency="weekly",
                    start_date=start_date,
                    start_time=dt.time(10 + n % 10, 0 if n % 2 else 30),
                    duration_minutes=90,
                    time_zone="Europe/London",
                    weekday=start_date.weekday(),
                    nth_weekday=min((start_date.day - 1) // 7 + 1, 4),
                )
            )
        series = self.bulk(SessionSeries, series)
        sessions = []
        for n, (group, rule) in enumerate(zip(self.groups, series, strict=True)):
            for week in range(per_group + (1 if n < extra else 0)):
                day = rule.start_date + dt.timedelta(weeks=week)
                local = dt.datetime.combine(day, rule.start_time, tzinfo=LONDON)
                starts = local.astimezone(dt.UTC)
                sessions.append(
                    GroupSession(
                        group=group,
                        series=rule,
                        occurrence_date=day,
                        starts_at=starts,
                        ends_at=starts + dt.timedelta(minutes=90),
                        status="cancelled" if (n + week) % 40 == 0 else "scheduled",
                    )
                )
        sessions = self.bulk(GroupSession, sessions)
        # Attendance at each group's last two past sessions.
        last_past: dict[int, list] = {}
        for session in sessions:
            if session.ends_at < self.now:
                bucket = last_past.setdefault(session.group_id, [])
                bucket.append(session)
                if len(bucket) > 2:
                    bucket.pop(0)
        rows = []
        for group_id, past in last_past.items():
            for session in past:
                for user_id in self.members_of_group.get(group_id, []):
                    rows.append(
                        Attendance(
                            session=session,
                            user_id=user_id,
                            status="present" if self.rng.random() < 0.8 else "absent",
                        )
                    )
        self.bulk(Attendance, rows)

    # --- discussion -----------------------------------------------------------------------
    def discussion(self) -> None:
        from groups.models import Post, PostReport, Thread

        s = self.sizes
        rng = self.rng
        per_group = max(1, s["threads"] // len(self.groups))
        threads = []
        for group in self.groups:
            authors = self.members_of_group.get(group.pk) or [None]
            for k in range(per_group):
                when = self.now - dt.timedelta(hours=rng.randint(1, 2000))
                threads.append(
                    Thread(
                        group=group,
                        author_id=rng.choice(authors),
                        title=f"What helped you this week? ({k})",
                        created_at=when,
                        last_post_at=when,
                    )
                )
        threads = self.bulk(Thread, threads)
        per_thread = max(1, s["posts"] // len(threads))
        posts = []
        for thread in threads:
            authors = self.members_of_group.get(thread.group_id) or [None]
            for k in range(per_thread):
                posts.append(
                    Post(
                        thread=thread,
                        author_id=rng.choice(authors),
                        body="Going for a short walk every morning made a real difference to me.",
                        created_at=thread.created_at + dt.timedelta(minutes=k),
                    )
                )
        posts = self.bulk(Post, posts)
        group_of_thread = {t.pk: t.group_id for t in threads}
        reports = []
        for post in rng.sample(posts, min(len(posts), 400)):
            members = self.members_of_group.get(group_of_thread[post.thread_id])
            if members:
                reports.append(
                    PostReport(post=post, reporter_id=members[0], reason="This does not feel kind.")
                )
        self.bulk(PostReport, reports)

    # --- buddy requests, pairings, runs ---------------------------------------------------
    def matching(self) -> None:
        from matching.models import BuddyRequest, Concern, MatchRun, Message, Pairing, Proposal

        s = self.sizes
        rng = self.rng
        candidates = [
            e
            for e in self.member_enrolments
            if e.status == "active" and self.profiles_by_programme.get(e.programme_id)
        ]
        rng.shuffle(candidates)
        n_pairings = min(s["pairings"], len(candidates))
        chosen = candidates[: n_pairings + s["waiting_requests"]]
        requests = []
        for n, e in enumerate(chosen):
            status = "waiting"
            if n < n_pairings:
                status = "closed" if n % 10 >= 7 else "paired"
            requests.append(
                BuddyRequest(
                    enrolment=e,
                    wants=["condition"],
                    conditions=["type_2_diabetes"],
                    languages=["en"],
                    availability=(1 << 21) - 1,
                    formats=["phone", "video"],
                    status=status,
                    waiting_since=self.now - dt.timedelta(days=rng.randint(1, 120)),
                )
            )
        requests = self.bulk(BuddyRequest, requests)
        pairings = []
        for n, request in enumerate(requests[:n_pairings]):
            e = chosen[n]
            supporter = rng.choice(self.profiles_by_programme[e.programme_id])
            if request.status == "closed":
                fields = {
                    "status": "ended",
                    "ending": "completed" if n % 3 else "cancelled",
                    "ended_at": self.now - dt.timedelta(days=rng.randint(1, 300)),
                }
            else:
                fields = {"status": ("active", "active", "active", "introduced", "paused")[n % 5]}
                if fields["status"] == "active":
                    fields["activated_at"] = self.now - dt.timedelta(days=rng.randint(1, 200))
            pairings.append(
                Pairing(
                    programme_id=e.programme_id,
                    request=request,
                    recipient=e,
                    supporter=supporter,
                    introduced_at=self.now - dt.timedelta(days=rng.randint(1, 300)),
                    last_contact_at=self.now - dt.timedelta(days=rng.randint(0, 30)),
                    **fields,
                )
            )
        pairings = self.bulk(Pairing, pairings)
        messages = []
        for n, pairing in enumerate(pairings):
            if n % 2:
                continue
            for k in range(4):
                sender = pairing.recipient.user_id if k % 2 else pairing.supporter.enrolment.user_id
                messages.append(
                    Message(
                        pairing=pairing,
                        sender_id=sender,
                        body="Hello! How are you getting on this week?",
                        created_at=self.now - dt.timedelta(days=10 - k),
                        read_at=self.now,
                    )
                )
        self.bulk(Message, messages)
        self.bulk(
            Concern,
            [
                Concern(
                    pairing=p,
                    raised_by_id=p.recipient.user_id,
                    text="We have not spoken for a while.",
                )
                for p in rng.sample(pairings, min(len(pairings), 300))
            ],
        )
        # One finished matching run per open programme, with proposals waiting for review.
        runs = self.bulk(
            MatchRun,
            [
                MatchRun(programme=p, status="done", progress=100, finished_at=self.now)
                for p in self.open_programmes
            ],
        )
        run_for = {run.programme_id: run for run in runs}
        proposals = []
        proposed_per_programme: dict[int, int] = {}
        for request, e in zip(requests[n_pairings:], chosen[n_pairings:], strict=True):
            run = run_for.get(e.programme_id)
            if run is None or proposed_per_programme.get(e.programme_id, 0) >= 3:
                continue
            proposed_per_programme[e.programme_id] = (
                proposed_per_programme.get(e.programme_id, 0) + 1
            )
            proposals.append(
                Proposal(
                    run=run,
                    request=request,
                    supporter=rng.choice(self.profiles_by_programme[e.programme_id]),
                    score=rng.uniform(20, 80),
                    breakdown=[["Same condition", 30]],
                )
            )
        self.bulk(Proposal, proposals)

    # --- referrals ------------------------------------------------------------------------
    def referrals(self) -> None:
        from referrals.models import Clinician, Practice, Referral, ReferralLink

        s = self.sizes
        rng = self.rng
        practices = self.bulk(
            Practice,
            [
                Practice(
                    organisation=org,
                    name=f"{TOWNS[k % len(TOWNS)]} Medical Practice {i}-{k}",
                    area=TOWNS[k % len(TOWNS)],
                )
                for i, org in enumerate(self.orgs)
                for k in range(5)
            ],
        )
        clinicians = self.bulk(
            Clinician,
            [
                Clinician(
                    user=user,
                    practice=practices[n // 2],
                    job_title="GP",
                    status="approved",
                    approved_at=self.now,
                )
                for n, user in enumerate(self.clinician_users)
            ],
        )
        by_org: dict[int, list] = {}
        for clinician in clinicians:
            by_org.setdefault(clinician.practice.organisation_id, []).append(clinician)
        links = []
        for p in self.programmes:
            for k in range(2):
                clinician = rng.choice(by_org[p.organisation_id])
                links.append(
                    ReferralLink(
                        programme=p,
                        label=f"Waiting room poster {k}",
                        clinician=clinician,
                        practice=clinician.practice,
                        token_nonce=secrets.token_hex(16),
                        token_hash=secrets.token_hex(32),
                        visit_count=rng.randint(0, 300),
                    )
                )
        links = self.bulk(ReferralLink, links)
        links_by_programme: dict[int, list] = {}
        for link in links:
            links_by_programme.setdefault(link.programme_id, []).append(link)
        per_programme = s["referrals"] // len(self.programmes)
        statuses = [
            "sent",
            "opened",
            "registered",
            "enrolled",
            "active",
            "declined",
            "expired",
            "withdrawn",
        ]
        triages = ["new", "new", "accepted", "contacted", "declined"]
        referrals = []
        n = 0
        for p in self.programmes:
            for k in range(per_programme):
                n += 1
                status = statuses[k % len(statuses)]
                if k % 10 < 7:
                    clinician = rng.choice(by_org[p.organisation_id])
                    has_token = status in ("sent", "opened")
                    referrals.append(
                        Referral(
                            programme=p,
                            kind="named",
                            clinician=clinician,
                            practice=clinician.practice,
                            patient_name=f"Referred Person {n}",
                            email=f"referred{n}@{common.EMAIL_DOMAIN}",
                            reason="Newly diagnosed and feeling isolated.",
                            contact_agreed=True,
                            progress_consent=bool(k % 2),
                            status=status,
                            token_nonce=secrets.token_hex(16) if has_token else None,
                            token_hash=hashlib.sha256(f"load-{n}".encode()).hexdigest()
                            if has_token
                            else None,
                            expires_at=self.now + dt.timedelta(days=20) if has_token else None,
                            triage=triages[k % len(triages)],
                            created_by=clinician.user,
                        )
                    )
                else:
                    link = rng.choice(links_by_programme[p.pk])
                    referrals.append(
                        Referral(
                            programme=p,
                            kind="link",
                            link=link,
                            practice=link.practice,
                            clinician=link.clinician,
                            status=status,
                            triage=triages[k % len(triages)],
                        )
                    )
        self.bulk(Referral, referrals)

    # --- notifications ----------------------------------------------------------------------
    def notifications(self) -> None:
        from notifications.models import Delivery, Notification

        s = self.sizes
        rng = self.rng
        users = self.member_users
        self.bulk(
            Notification,
            [
                Notification(
                    user=users[n % len(users)],
                    kind="session_reminder",
                    title="Your group meets tomorrow",
                    url="/my/sessions/",
                    read_at=None if n % 2 else self.now,
                    created_at=self.now - dt.timedelta(hours=rng.randint(1, 2000)),
                )
                for n in range(s["notifications"])
            ],
        )
        self.bulk(
            Delivery,
            [
                Delivery(
                    key=f"load-benchmark:{n}",
                    user=users[n % len(users)],
                    organisation=self.orgs[n % len(self.orgs)],
                    kind="session_reminder",
                    channel="email",
                    status="failed" if n % 2000 == 0 else "sent",
                    due_at=self.now - dt.timedelta(hours=rng.randint(1, 2000)),
                    sent_at=self.now,
                )
                for n in range(s["deliveries"])
            ],
        )

    def spread_dates(self) -> None:
        """bulk_create stamps auto_now_add fields with one moment: spread them out."""
        from django.db import connection

        with connection.cursor() as cursor:
            for table in (
                "referrals_referral",
                "programmes_enrolment",
                "matching_pairing",
                "groups_membership",
            ):
                cursor.execute(
                    f"UPDATE {table} "  # noqa: S608 - fixed table names
                    "SET created_at = created_at - ((id * 7919) % 400) * interval '1 day'"
                )
        self.log("created_at spread over 400 days")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reset", action="store_true", help="drop the benchmark database first")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every size (0.1 for a quick try)"
    )
    args = parser.parse_args(argv)
    sizes = {
        name: max(1, int(value * args.scale)) if name not in ("organisations",) else value
        for name, value in SIZES.items()
    }
    sizes["programmes"] = max(sizes["programmes"], sizes["organisations"])
    seed_database(sizes, reset=args.reset)
    return 0


def seed_database(sizes: dict[str, int] | None = None, *, reset: bool = False) -> None:
    sizes = sizes or dict(SIZES)
    ensure_database(reset=reset)
    common.setup_django()
    from django.core.management import call_command
    from django.db import connection

    if is_seeded():
        print(
            f"The load dataset is already in {common.DATABASE_URL.rsplit('@', 1)[-1]}: "
            "nothing to do (--reset to seed again)."
        )
        return
    call_command("migrate", verbosity=0)
    if has_any_data():
        print("A half-finished seed was found: starting again from an empty database.")
        connection.close()
        ensure_database(reset=True)
        call_command("migrate", verbosity=0)
    print(
        f"Seeding {common.DATABASE_URL.rsplit('@', 1)[-1]}: "
        + ", ".join(f"{k}={v:,}" for k, v in sizes.items())
    )
    Seeder(sizes).run()
    connection.close()


if __name__ == "__main__":
    raise SystemExit(main())
