from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from matching import reasons, solver
from matching.models import MatchRun, Pairing, PairRule, Proposal
from matching.services import IllegalTransition, MatchingError, RunAlreadyActive
from matching.services import onboarding as onboarding_services
from matching.services import runs as services

from .factories import BuddyRequestFactory, SupporterProfileFactory

pytestmark = pytest.mark.django_db


def run_now(coordinator, programme, django_capture_on_commit_callbacks) -> MatchRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.match_run_start(coordinator=coordinator, programme=programme)
    run.refresh_from_db()
    return run


def test_a_run_proposes_the_best_assignment_with_reasons(
    coordinator, programme, django_capture_on_commit_callbacks
):
    diabetes = SupporterProfileFactory(
        enrolment__programme=programme, conditions=["type_2_diabetes"]
    )
    other = SupporterProfileFactory(enrolment__programme=programme, conditions=["cancer"])
    wants_diabetes = BuddyRequestFactory(
        enrolment__programme=programme, conditions=["type_2_diabetes"]
    )
    wants_cancer = BuddyRequestFactory(enrolment__programme=programme, conditions=["cancer"])
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.status == "done" and run.progress == 100
    assert run.recipients_count == 2 and run.supporters_count == 2 and run.proposals_count == 2
    assert run.parameters["condition"] == 30.0
    pairs = {(p.request_id, p.supporter_id) for p in run.proposals.all()}
    assert pairs == {(wants_diabetes.pk, diabetes.pk), (wants_cancer.pk, other.pk)}
    proposal = run.proposals.get(request=wants_diabetes)
    condition = next(item for item in proposal.breakdown if item["code"] == "condition")
    assert condition == {
        "code": "condition",
        "points": 60.0,
        "facts": {"conditions": ["type_2_diabetes"], "priority": True},
    }
    assert "same condition: Type 2 diabetes (their priority) +60" in reasons.breakdown_lines(
        proposal.breakdown
    )


def test_a_rematched_request_is_told_its_real_wait(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme)
    again = BuddyRequestFactory(
        enrolment__programme=programme,
        priority=True,
        waiting_since=timezone.now() - datetime.timedelta(days=10, hours=1),
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    proposal = run.proposals.get(request=again)
    waiting = next(item for item in proposal.breakdown if item["code"] == "waiting")
    # Scored as if it had waited 120 days more (the most waiting can give), so it comes first...
    assert waiting["points"] == 20.0
    # ...but the coordinator reads how long the person really waited.
    assert waiting["facts"] == {"days": 10, "again": True}
    line = reasons.criterion_line(waiting)
    assert line.startswith("waited 10 days, after a pairing that did not work out +")


def test_a_run_never_proposes_someone_already_proposed_or_paired(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory.create_batch(3, enrolment__programme=programme)
    BuddyRequestFactory(enrolment__programme=programme)
    first = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert first.proposals_count == 1
    second = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert second.recipients_count == 0 and second.proposals_count == 0
    services.proposal_approve(coordinator=coordinator, proposal=first.proposals.get())
    third = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert third.recipients_count == 0


def test_paused_full_untrained_and_unapproved_supporters_are_not_matched(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(
        enrolment__programme=programme,
        paused_until=timezone.localdate() + datetime.timedelta(days=3),
    )
    SupporterProfileFactory(enrolment__programme=programme, enrolment__status="applied")
    full = SupporterProfileFactory(enrolment__programme=programme, capacity=1)
    from .conftest import make_pairing

    make_pairing(programme, "active", supporter=full)
    untrained = SupporterProfileFactory(enrolment__programme=programme)
    onboarding_services.training_module_create(
        coordinator=coordinator, programme=programme, name="Safety"
    )
    BuddyRequestFactory(enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.supporters_count == 0
    assert run.proposals_count == 0
    assert run.unmatched_count == 1
    assert untrained.pk not in set(run.proposals.values_list("supporter_id", flat=True))


def test_it_explains_why_someone_got_nobody(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme, languages=["pl"])
    SupporterProfileFactory(enrolment__programme=programme, formats=["in_person"], town="leeds")
    request = BuddyRequestFactory(
        enrolment__programme=programme, languages=["en"], formats=["phone"]
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.unmatched_count == 1
    reasons = {r["code"]: r["count"] for r in run.unmatched[0]["reasons"]}
    assert run.unmatched[0]["request_id"] == request.pk
    assert reasons == {"language": 1, "format": 1}


def test_forbidden_declined_and_rejected_pairs_are_never_proposed(
    coordinator, programme, django_capture_on_commit_callbacks
):
    a = SupporterProfileFactory(enrolment__programme=programme)
    request = BuddyRequestFactory(enrolment__programme=programme)
    services.pair_rule_set(
        coordinator=coordinator,
        programme=programme,
        recipient=request.enrolment,
        supporter=a,
        kind="forbid",
        reason="Same household",
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals_count == 0
    PairRule.objects.all().delete()
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals_count == 1
    services.proposal_reject(
        coordinator=coordinator, proposal=run.proposals.get(), reason="Not right"
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals_count == 0


def test_a_pinned_pair_is_proposed(coordinator, programme, django_capture_on_commit_callbacks):
    best = SupporterProfileFactory(enrolment__programme=programme, conditions=["type_2_diabetes"])
    pinned = SupporterProfileFactory(enrolment__programme=programme, conditions=[])
    request = BuddyRequestFactory(enrolment__programme=programme)
    services.pair_rule_set(
        coordinator=coordinator,
        programme=programme,
        recipient=request.enrolment,
        supporter=pinned,
        kind="pin",
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    proposal = run.proposals.get()
    assert proposal.supporter == pinned and proposal.pinned
    assert best.pk != proposal.supporter_id


def test_weights_change_the_result(coordinator, programme, django_capture_on_commit_callbacks):
    same_condition = SupporterProfileFactory(
        enrolment__programme=programme, conditions=["type_2_diabetes"], age_group="18_29"
    )
    same_age = SupporterProfileFactory(
        enrolment__programme=programme, conditions=[], age_group="45_64"
    )
    BuddyRequestFactory(enrolment__programme=programme, wants=[], age_group="45_64")
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals.get().supporter == same_condition
    Proposal.objects.all().update(status="rejected", reject_reason="test")
    Proposal.objects.all().delete()
    services.match_settings_update(
        coordinator=coordinator, programme=programme, condition=0.0, same_age_band=50.0
    )
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals.get().supporter == same_age


def test_only_one_run_per_programme_at_a_time(coordinator, programme):
    services.match_run_start(coordinator=coordinator, programme=programme)
    with pytest.raises(RunAlreadyActive):
        services.match_run_start(coordinator=coordinator, programme=programme)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchRun.objects.create(programme=programme, status="running")


def test_a_stale_run_no_longer_blocks(coordinator, programme):
    run = services.match_run_start(coordinator=coordinator, programme=programme)
    MatchRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    services.match_run_start(coordinator=coordinator, programme=programme)
    assert MatchRun.objects.get(pk=run.pk).status == "failed"


def test_running_a_run_twice_changes_nothing(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme)
    BuddyRequestFactory(enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    services.match_run_execute(run_id=run.pk)
    assert Proposal.objects.count() == 1


def test_a_failing_run_records_the_error(coordinator, programme, monkeypatch):
    run = services.match_run_start(coordinator=coordinator, programme=programme)

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(solver, "solve", broken)
    services.match_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "engine exploded" in run.error and run.finished_at


def test_another_organisations_coordinator_cannot_start_a_run(other_coordinator, programme):
    with pytest.raises(PermissionDenied):
        services.match_run_start(coordinator=other_coordinator, programme=programme)


def test_approving_a_proposal_creates_a_proposed_pairing(
    coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme)
    request = BuddyRequestFactory(enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    pairing = services.proposal_approve(coordinator=coordinator, proposal=run.proposals.get())
    assert pairing.status == Pairing.Status.PROPOSED
    request.refresh_from_db()
    assert request.status == "paired"
    with pytest.raises(IllegalTransition):
        services.proposal_approve(coordinator=coordinator, proposal=run.proposals.get())


def test_rejecting_needs_a_reason(coordinator, programme, django_capture_on_commit_callbacks):
    SupporterProfileFactory(enrolment__programme=programme)
    BuddyRequestFactory(enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    with pytest.raises(MatchingError):
        services.proposal_reject(coordinator=coordinator, proposal=run.proposals.get(), reason="")


def test_pairing_by_hand_checks_the_supporter(coordinator, programme):
    request = BuddyRequestFactory(enrolment__programme=programme)
    paused = SupporterProfileFactory(
        enrolment__programme=programme,
        paused_until=timezone.localdate() + datetime.timedelta(days=1),
    )
    with pytest.raises(MatchingError):
        services.pairing_create_by_hand(coordinator=coordinator, request=request, supporter=paused)
    fine = SupporterProfileFactory(enrolment__programme=programme)
    pairing = services.pairing_create_by_hand(
        coordinator=coordinator, request=request, supporter=fine
    )
    assert pairing.status == "proposed"


# --- Views --------------------------------------------------------------------------------


def test_the_coordinator_starts_a_run_and_watches_it(
    client, coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme)
    BuddyRequestFactory(enrolment__programme=programme)
    client.force_login(coordinator)
    assert client.get(reverse("matching:manage_programme", args=[programme.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("matching:run_start", args=[programme.pk]))
    run = MatchRun.objects.get()
    assert response["Location"] == reverse("matching:manage_run", args=[run.pk])
    page = client.get(response["Location"])
    assert b"same condition" in page.content
    progress = client.get(reverse("matching:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and progress["HX-Refresh"] == "true"
    proposal = run.proposals.get()
    client.post(reverse("matching:proposal_approve", args=[proposal.pk]))
    assert Pairing.objects.get().proposal == proposal


def test_progress_polls_while_the_run_is_queued(client, coordinator, programme):
    run = services.match_run_start(coordinator=coordinator, programme=programme)
    client.force_login(coordinator)
    response = client.get(reverse("matching:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert b"hx-trigger" in response.content and "HX-Refresh" not in response


def test_run_pages_are_hidden_from_other_organisations_and_members(
    client, coordinator, other_coordinator, member, programme
):
    run = services.match_run_start(coordinator=coordinator, programme=programme)
    client.force_login(other_coordinator)
    for name in ("manage_run", "run_progress"):
        assert client.get(reverse(f"matching:{name}", args=[run.pk])).status_code == 404
    assert client.post(reverse("matching:run_start", args=[programme.pk])).status_code == 404
    assert client.get(reverse("matching:manage_settings", args=[programme.pk])).status_code == 404
    client.force_login(member)
    assert client.get(reverse("matching:manage_run", args=[run.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("matching:manage_run", args=[run.pk])).status_code == 302


def test_the_coordinator_rejects_with_a_reason_on_the_page(
    client, coordinator, other_coordinator, programme, django_capture_on_commit_callbacks
):
    SupporterProfileFactory(enrolment__programme=programme)
    BuddyRequestFactory(enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    proposal = run.proposals.get()
    client.force_login(other_coordinator)
    assert (
        client.post(
            reverse("matching:proposal_reject", args=[proposal.pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    client.force_login(coordinator)
    client.post(reverse("matching:proposal_reject", args=[proposal.pk]), {"reason": "Lives nearby"})
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and proposal.reject_reason == "Lives nearby"


def test_settings_rules_and_hand_pairing_pages(client, coordinator, programme):
    supporter = SupporterProfileFactory(enrolment__programme=programme)
    request = BuddyRequestFactory(enrolment__programme=programme)
    client.force_login(coordinator)
    settings_url = reverse("matching:manage_settings", args=[programme.pk])
    assert client.get(settings_url).status_code == 200
    data = {
        name: 1
        for name in (
            "condition",
            "experience",
            "caring_situation",
            "same_age_band",
            "slot",
            "preferred_format",
            "waiting_per_week",
            "max_waiting",
        )
    }
    data.update(priority_multiplier=2, max_distance_km=10, no_contact_days=7)
    assert client.post(settings_url, data).status_code == 302
    assert solver.settings_for(programme).max_distance_km == 10
    rules_url = reverse("matching:manage_rules", args=[programme.pk])
    client.post(
        rules_url, {"recipient": request.enrolment_id, "supporter": supporter.pk, "kind": "pin"}
    )
    assert PairRule.objects.get().kind == "pin"
    pair_url = reverse("matching:manage_pair", args=[programme.pk])
    assert client.get(pair_url).status_code == 200
    client.post(pair_url, {"request": request.pk, "supporter": supporter.pk})
    assert Pairing.objects.get().supporter == supporter


def test_run_page_queries_do_not_grow(
    client,
    coordinator,
    programme,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    client.force_login(coordinator)
    SupporterProfileFactory.create_batch(2, enrolment__programme=programme)
    BuddyRequestFactory.create_batch(3, enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(20):
        client.get(reverse("matching:manage_run", args=[run.pk]))
    SupporterProfileFactory.create_batch(10, enrolment__programme=programme)
    BuddyRequestFactory.create_batch(15, enrolment__programme=programme)
    run = run_now(coordinator, programme, django_capture_on_commit_callbacks)
    assert run.proposals_count == 10
    with django_assert_max_num_queries(20):
        assert client.get(reverse("matching:manage_run", args=[run.pk])).status_code == 200
