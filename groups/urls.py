from django.urls import path

from . import views, views_discussion, views_manage

app_name = "groups"

urlpatterns = [
    path("groups/", views.group_list, name="list"),
    path("groups/<int:pk>/", views.group_detail, name="detail"),
    path("groups/<int:pk>/join/", views.join, name="join"),
    path("groups/<int:pk>/leave/", views.leave, name="leave"),
    path("groups/<int:pk>/still-waiting/", views.waiting_stay, name="waiting_stay"),
    path("groups/offers/<int:pk>/", views.offer_respond, name="offer_respond"),
    path("groups/sessions/<int:pk>/calendar.ics", views.session_ics, name="session_ics"),
    path("groups/sessions/<int:pk>/apologies/", views.apologies, name="apologies"),
    path("groups/sessions/<int:pk>/place/", views.session_place, name="session_place"),
    path("my/groups/", views.mine, name="mine"),
    path("my/sessions/", views.my_sessions, name="my_sessions"),
    path("my/calendar/", views.feed_change, name="feed_change"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
    # discussion
    path("groups/<int:pk>/discussion/", views_discussion.thread_list, name="threads"),
    path("groups/<int:pk>/guidelines/", views_discussion.guidelines, name="guidelines"),
    path("groups/<int:pk>/discussion/new/", views_discussion.thread_new, name="thread_new"),
    path(
        "groups/<int:pk>/discussion/<int:thread_pk>/",
        views_discussion.thread_detail,
        name="thread",
    ),
    path("groups/posts/<int:pk>/report/", views_discussion.post_report, name="post_report"),
    path("groups/posts/<int:pk>/moderate/", views_discussion.post_moderate, name="post_moderate"),
    path("groups/threads/<int:pk>/lock/", views_discussion.thread_lock, name="thread_lock"),
    path("manage/moderation/", views_discussion.moderation_queue, name="moderation"),
    # coordinators and facilitators
    path(
        "manage/programmes/<int:programme_pk>/groups/",
        views_manage.programme_groups,
        name="programme_groups",
    ),
    path(
        "manage/programmes/<int:programme_pk>/groups/new/",
        views_manage.group_create,
        name="group_create",
    ),
    path("manage/groups/<int:pk>/", views_manage.group_manage, name="manage"),
    path("manage/groups/<int:pk>/edit/", views_manage.group_edit, name="group_edit"),
    path("manage/groups/<int:pk>/add-member/", views_manage.member_add, name="member_add"),
    path("manage/groups/<int:pk>/sessions/new/", views_manage.series_create, name="series_create"),
    path(
        "manage/groups/<int:pk>/attendance/",
        views_manage.attendance_report,
        name="attendance_report",
    ),
    path("manage/series/<int:pk>/edit/", views_manage.series_edit, name="series_edit"),
    path("manage/sessions/<int:pk>/edit/", views_manage.session_edit, name="session_edit"),
    path("manage/sessions/<int:pk>/cancel/", views_manage.session_cancel, name="session_cancel"),
    path("manage/sessions/<int:pk>/attendance/", views_manage.attendance_sheet, name="attendance"),
    path(
        "manage/sessions/<int:pk>/attendance/<int:user_pk>/",
        views_manage.attendance_mark,
        name="attendance_mark",
    ),
    path(
        "manage/memberships/<int:pk>/<str:action>/",
        views_manage.membership_action,
        name="membership_action",
    ),
]
