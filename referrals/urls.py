from django.urls import path

from .views import clinician, coordinator, public

app_name = "referrals"

urlpatterns = [
    # Public, from a token (rate limited).
    path("r/<str:token>/", public.link_landing, name="link_landing"),
    path("invited/<str:token>/", public.invitation_landing, name="invitation_landing"),
    path("invited/<str:token>/no-thanks/", public.invitation_decline, name="invitation_decline"),
    path("referrals/continue/", public.continue_to_join, name="continue"),
    path(
        "clinicians/invitation/accept/",
        public.clinician_invitation_accept,
        name="clinician_invitation_accept",
    ),
    path(
        "clinicians/invitation/<str:token>/",
        public.clinician_invitation,
        name="clinician_invitation",
    ),
    # Clinicians.
    path("clinician/", clinician.clinician_home, name="clinician_home"),
    path("clinician/register/", clinician.clinician_register, name="clinician_register"),
    path("clinician/refer/", clinician.referral_create, name="refer"),
    path("clinician/referrals/<int:pk>/withdraw/", clinician.referral_withdraw, name="withdraw"),
    path("referral-links/new/", clinician.link_create, name="link_create"),
    path("referral-links/<int:pk>/poster/", clinician.link_poster, name="link_poster"),
    path("referral-links/<int:pk>/qr.svg", clinician.link_qr_svg, name="link_qr_svg"),
    path("referral-links/<int:pk>/qr.png", clinician.link_qr_png, name="link_qr_png"),
    path("referral-links/<int:pk>/revoke/", clinician.link_revoke, name="link_revoke"),
    # Referred people.
    path(
        "my/referrals/<int:pk>/stop-sharing/", clinician.stop_sharing_progress, name="stop_sharing"
    ),
    # Coordinators.
    path("manage/practices/", coordinator.practice_list, name="practice_list"),
    path("manage/practices/new/", coordinator.practice_create, name="practice_create"),
    path("manage/practices/<int:pk>/invite/", coordinator.practice_invite, name="practice_invite"),
    path(
        "manage/clinicians/<int:pk>/status/", coordinator.clinician_status, name="clinician_status"
    ),
    path("manage/programmes/<int:pk>/referrals/", coordinator.inbox, name="inbox"),
    path("manage/programmes/<int:pk>/referrals/sources/", coordinator.sources, name="sources"),
    path(
        "manage/programmes/<int:pk>/referral-links/", coordinator.manage_links, name="manage_links"
    ),
    path("manage/referrals/<int:pk>/", coordinator.referral_detail, name="referral_detail"),
    path("manage/referrals/<int:pk>/triage/", coordinator.referral_triage, name="referral_triage"),
    path("manage/referrals/<int:pk>/notes/", coordinator.referral_note, name="referral_note"),
]
