from django.contrib import admin

from .models import Clinician, Practice, Referral, ReferralLink


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "kind", "area"]


@admin.register(Clinician)
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ["user", "practice", "status"]
    list_filter = ["status"]


@admin.register(ReferralLink)
class ReferralLinkAdmin(admin.ModelAdmin):
    list_display = ["label", "programme", "created_at", "revoked_at", "visit_count"]
    exclude = ["token_nonce", "token_hash"]


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "programme", "status", "triage", "created_at"]
    list_filter = ["kind", "status", "triage"]
    exclude = ["token_nonce", "token_hash"]
