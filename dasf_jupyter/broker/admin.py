"""Django admin for topics, topic permissions and API tokens (users come with django.contrib)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .api import is_online
from .models import ApiToken, Topic, TopicPermission, hash_token_key


class TopicPermissionInline(admin.TabularInline):
    model = TopicPermission
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_public",
        "online",
        "last_pong",
        "owner",
        "owned_by_anonymous",
        "is_response_topic",
    ]
    list_filter = ["is_public", "is_response_topic", "owned_by_anonymous"]
    search_fields = ["name", "description", "owner__username"]
    readonly_fields = ["created", "last_used", "last_ping", "last_pong", "claimable_until"]
    raw_id_fields = ["source_topic"]
    autocomplete_fields = ["owner"]
    inlines = [TopicPermissionInline]

    @admin.display(boolean=True, description="online")
    def online(self, topic: Topic) -> bool:
        return is_online(topic)

    def save_model(self, request: HttpRequest, obj: Topic, form: Any, change: bool) -> None:
        if obj.owner_id is not None:  # an admin gave it an owner: no longer anonymous's
            obj.owned_by_anonymous = False
        super().save_model(request, obj, form, change)


@admin.register(TopicPermission)
class TopicPermissionAdmin(admin.ModelAdmin):
    list_display = ["topic", "user", "can_produce", "can_consume", "can_view"]
    list_filter = ["can_produce", "can_consume", "can_view"]
    search_fields = ["topic__name", "user__username"]
    autocomplete_fields = ["topic", "user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "user__username"]
    readonly_fields = ["created", "last_used"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:  # the key is generated, never typed in
            return ["user", "name"]
        return ["user", "name", "revoked", "created", "last_used"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        key = None
        if not change:
            key = ApiToken.new_key()
            obj.key_hash = hash_token_key(key)
        super().save_model(request, obj, form, change)
        if key is not None:
            # the only time the key is visible: only its hash is stored
            messages.warning(request, f"Token key (copy it now, it is not shown again): {key}")

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.update(revoked=True)
        messages.success(request, f"revoked {count} token(s)")
