"""Group discussion pages: visible to the group's members, facilitators and coordinators only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import access, discussion
from .forms import ReplyForm, ReportForm, ThreadForm
from .models import Group, Post, PostReport, Thread


def _discussable(request, pk) -> Group:
    return get_object_or_404(
        Group.objects.discussable_by(request.user).select_related("programme"), pk=pk
    )


@login_required
def thread_list(request, pk):
    group = _discussable(request, pk)
    threads = (
        Thread.objects.filter(group=group)
        .select_related("author")
        .annotate(replies=Count("posts", filter=Q(posts__is_hidden=False)))
        .order_by("-last_post_at")
    )
    page = Paginator(threads, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "groups/discussion/threads.html",
        {
            "group": group,
            "page": page,
            "accepted": discussion.guidelines_accepted(user=request.user, group=group),
        },
    )


@login_required
def guidelines(request, pk):
    """The community guidelines, agreed to once before a first post."""
    group = _discussable(request, pk)
    if request.method == "POST":
        discussion.guidelines_accept(user=request.user, group=group)
        messages.success(request, _("Thank you. You can now post in this group."))
        return redirect("groups:thread_new", pk=group.pk)
    return render(request, "groups/discussion/guidelines.html", {"group": group})


@login_required
def thread_new(request, pk):
    group = _discussable(request, pk)
    if not discussion.guidelines_accepted(user=request.user, group=group):
        return redirect("groups:guidelines", pk=group.pk)
    form = ThreadForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = discussion.thread_create(user=request.user, group=group, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("groups:thread", pk=group.pk, thread_pk=thread.pk)
    return render(request, "groups/discussion/thread_new.html", {"group": group, "form": form})


@login_required
def thread_detail(request, pk, thread_pk):
    group = _discussable(request, pk)
    thread = get_object_or_404(Thread.objects.filter(group=group), pk=thread_pk)
    can_moderate = access.can_moderate(request.user, group)
    posts = thread.posts.select_related("author").annotate(
        open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True))
    )
    form = ReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            discussion.post_reply(user=request.user, thread=thread, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(reverse("groups:thread", args=[group.pk, thread.pk]) + "#reply")
    return render(
        request,
        "groups/discussion/thread.html",
        {
            "group": group,
            "thread": thread,
            "posts": posts,
            "form": form,
            "can_moderate": can_moderate,
            "accepted": discussion.guidelines_accepted(user=request.user, group=group),
        },
    )


def _post_for(request, pk) -> Post:
    return get_object_or_404(
        Post.objects.filter(
            thread__group__in=Group.objects.discussable_by(request.user).values("pk")
        ).select_related("thread__group"),
        pk=pk,
    )


@login_required
def post_report(request, pk):
    post = _post_for(request, pk)
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            discussion.post_report(user=request.user, post=post, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            messages.info(request, error.messages[0])
        else:
            messages.success(request, _("Thank you. A facilitator will look at this post."))
        return redirect("groups:thread", pk=post.thread.group_id, thread_pk=post.thread_id)
    return render(request, "groups/discussion/report.html", {"post": post, "form": form})


@login_required
@require_POST
def post_moderate(request, pk):
    post = _post_for(request, pk)
    if not access.can_moderate(request.user, post.thread.group):
        raise PermissionDenied
    action = request.POST.get("action")
    if action == "hide":
        discussion.post_hide(by=request.user, post=post)
        messages.success(request, _("The post is hidden from members."))
    elif action == "restore":
        discussion.post_restore(by=request.user, post=post)
        messages.success(request, _("The post is showing again."))
    elif action == "dismiss":
        discussion.reports_dismiss(by=request.user, post=post)
        messages.success(request, _("Reports closed. The post stays."))
    else:
        raise PermissionDenied
    if request.POST.get("next") == "queue":
        return redirect("groups:moderation")
    return redirect("groups:thread", pk=post.thread.group_id, thread_pk=post.thread_id)


@login_required
@require_POST
def thread_lock(request, pk):
    thread = get_object_or_404(
        Thread.objects.filter(
            group__in=Group.objects.moderated_by(request.user).values("pk")
        ).select_related("group"),
        pk=pk,
    )
    locked = request.POST.get("locked") == "1"
    discussion.thread_set_locked(by=request.user, thread=thread, locked=locked)
    messages.success(request, _("Replies are closed.") if locked else _("Replies are open again."))
    return redirect("groups:thread", pk=thread.group_id, thread_pk=thread.pk)


@login_required
def moderation_queue(request):
    """Reported posts in every group the person looks after."""
    if not Group.objects.moderated_by(request.user).exists():
        raise PermissionDenied
    reports = (
        PostReport.objects.moderated_by(request.user)
        .open()
        .select_related("post__author", "post__thread__group", "reporter")
        .order_by("created_at")
    )
    page = Paginator(reports, 25).get_page(request.GET.get("page"))
    return render(request, "groups/discussion/moderation.html", {"page": page})
