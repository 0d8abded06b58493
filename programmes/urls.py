from django.urls import path

from . import views, views_organisation

app_name = "programmes"

urlpatterns = [
    path("programmes/", views.directory, name="directory"),
    path("programmes/<slug:slug>/", views.detail, name="detail"),
    path("programmes/<slug:slug>/join/", views.join, name="join"),
    path("programmes/<slug:slug>/volunteer/", views.volunteer, name="volunteer"),
    path("my/programmes/", views.mine, name="mine"),
    path("my/enrolments/<int:pk>/leave/", views.leave, name="leave"),
    path("manage/", views.dashboard, name="dashboard"),
    path("manage/programmes/", views.manage_list, name="manage_list"),
    path("manage/programmes/new/", views.manage_create, name="manage_create"),
    path("manage/programmes/<int:pk>/", views.manage_detail, name="manage_detail"),
    path("manage/programmes/<int:pk>/edit/", views.manage_edit, name="manage_edit"),
    path("manage/programmes/<int:pk>/status/", views.manage_status, name="manage_status"),
    path("manage/programmes/<int:pk>/enrol/", views.manage_enrol, name="manage_enrol"),
    path("manage/organisation/", views_organisation.organisation_settings, name="organisation"),
    path("manage/organisation/staff/add/", views_organisation.staff_add, name="staff_add"),
    path(
        "manage/organisation/staff/<int:pk>/", views_organisation.staff_change, name="staff_change"
    ),
]
