from django.urls import path

from .views import onboarding, pairings, runs

app_name = "matching"

urlpatterns = [
    # Members and supporters
    path(
        "my/supporting/<int:enrolment_pk>/profile/",
        onboarding.supporter_profile,
        name="supporter_profile",
    ),
    path(
        "my/supporting/<int:enrolment_pk>/availability/",
        onboarding.supporter_availability,
        name="supporter_availability",
    ),
    path("my/buddy/<int:enrolment_pk>/request/", onboarding.request_buddy, name="request_buddy"),
    path(
        "my/buddy/requests/<int:pk>/withdraw/", onboarding.request_withdraw, name="request_withdraw"
    ),
    path("my/buddies/", pairings.my_pairings, name="my_pairings"),
    path("my/buddies/<int:pk>/", pairings.pairing, name="pairing"),
    path("my/buddies/<int:pk>/message/", pairings.pairing_message, name="pairing_message"),
    path("my/buddies/<int:pk>/contact/", pairings.pairing_contact, name="pairing_contact"),
    path("my/buddies/<int:pk>/concern/", pairings.pairing_concern, name="pairing_concern"),
    path("my/buddies/<int:pk>/end/", pairings.pairing_end, name="pairing_end"),
    path(
        "my/buddies/<int:pk>/<str:action>/",
        pairings.pairing_action,
        name="pairing_action",
    ),
    # Coordinators
    path("manage/programmes/<int:pk>/matching/", runs.manage_programme, name="manage_programme"),
    path(
        "manage/programmes/<int:pk>/matching/settings/",
        runs.manage_settings,
        name="manage_settings",
    ),
    path("manage/programmes/<int:pk>/matching/runs/", runs.run_start, name="run_start"),
    path("manage/programmes/<int:pk>/matching/rules/", runs.manage_rules, name="manage_rules"),
    path("manage/programmes/<int:pk>/matching/pair/", runs.manage_pair, name="manage_pair"),
    path(
        "manage/programmes/<int:pk>/supporters/",
        onboarding.manage_supporters,
        name="manage_supporters",
    ),
    path(
        "manage/programmes/<int:pk>/training/", onboarding.manage_training, name="manage_training"
    ),
    path(
        "manage/programmes/<int:pk>/buddy-requests/",
        onboarding.manage_requests,
        name="manage_requests",
    ),
    path(
        "manage/programmes/<int:pk>/buddy-requests/new/<int:enrolment_pk>/",
        onboarding.manage_request_new,
        name="manage_request_new",
    ),
    path("manage/programmes/<int:pk>/pairings/", pairings.manage_pairings, name="manage_pairings"),
    path("manage/supporters/<int:pk>/", onboarding.manage_supporter, name="manage_supporter"),
    path(
        "manage/supporters/<int:pk>/<str:action>/",
        onboarding.manage_supporter_action,
        name="manage_supporter_action",
    ),
    path("manage/match-runs/<int:pk>/", runs.manage_run, name="manage_run"),
    path("manage/match-runs/<int:pk>/progress/", runs.run_progress, name="run_progress"),
    path("manage/proposals/<int:pk>/approve/", runs.proposal_approve, name="proposal_approve"),
    path("manage/proposals/<int:pk>/reject/", runs.proposal_reject, name="proposal_reject"),
    path("manage/pair-rules/<int:pk>/delete/", runs.rule_delete, name="rule_delete"),
    path("manage/pairings/<int:pk>/", pairings.manage_pairing, name="manage_pairing"),
    path(
        "manage/pairings/<int:pk>/<str:action>/",
        pairings.manage_pairing_action,
        name="manage_pairing_action",
    ),
    path("manage/concerns/<int:pk>/resolve/", pairings.concern_resolve, name="concern_resolve"),
    path(
        "manage/contact-logs/<int:pk>/support-given/",
        pairings.contact_support_given,
        name="contact_support_given",
    ),
]
