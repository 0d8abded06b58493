from django.contrib import admin

from .models import MatchRun, MatchSettings, Pairing, TrainingModule


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = ["id", "programme", "status", "progress", "proposals_count", "created_at"]
    list_filter = ["status"]


@admin.register(Pairing)
class PairingAdmin(admin.ModelAdmin):
    list_display = ["id", "programme", "status", "ending", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["request", "recipient", "supporter", "proposal", "created_by", "ended_by"]


admin.site.register(MatchSettings)
admin.site.register(TrainingModule)
