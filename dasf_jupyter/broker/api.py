"""Discovery API: which topics (backend modules) exist, are online, and what they offer."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from django.utils import timezone

from ..protocol import API_INFO_EXTENSION
from .auth import AuthRefused, authenticate_sync
from .census import TopicConsumers
from .models import TOPIC_NAME_PATTERN, Topic, topic_name_error
from .permissions import may_view_topic, visible_topics

DEFAULT_ONLINE_WINDOW = 90.0

log = logging.getLogger(__name__)


def _error(status: int, detail: str, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _caller(request: HttpRequest) -> Any:
    """The token's user, else the admin session's user, else anonymous; AuthRefused if bad."""
    headers = (
        [(b"authorization", request.META["HTTP_AUTHORIZATION"].encode("latin-1"))]
        if "HTTP_AUTHORIZATION" in request.META
        else []
    )
    user = authenticate_sync(headers, request.META.get("QUERY_STRING", ""))
    if not user.is_authenticated:
        session_user = getattr(request, "user", None)
        if session_user is not None and session_user.is_authenticated:
            return session_user
    return user


def _member_names(api_info: Any, key: str) -> list[str]:
    """Names of ``api_info[key]`` entries; tolerant of whatever a backend sent."""
    if not isinstance(api_info, dict) or not isinstance(api_info.get(key), list):
        return []
    return [
        m["name"] for m in api_info[key] if isinstance(m, dict) and isinstance(m.get("name"), str)
    ]


def _announced_description(api_info: Any) -> str:
    """The description a dasf-jupyter module announced in its api_info extension, or ""."""
    extension = api_info.get(API_INFO_EXTENSION) if isinstance(api_info, dict) else None
    description = extension.get("description") if isinstance(extension, dict) else None
    return description if isinstance(description, str) else ""


def is_online(topic: Topic, now: datetime | None = None) -> bool:
    """Whether the topic's backend answered a ping within DASF_ONLINE_WINDOW seconds."""
    if topic.last_pong is None:
        return False
    return (now or timezone.now()) - topic.last_pong <= _online_window()


def _online_window() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "DASF_ONLINE_WINDOW", DEFAULT_ONLINE_WINDOW)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def consumers_of(names: list[str]) -> dict[str, TopicConsumers] | None:
    """Consumer counts of the named topics across all broker processes; None if unknown."""
    from .runtime import started_runtime

    runtime = started_runtime()
    if runtime is None:  # e.g. a view called in-process, without the broker running
        return None
    try:
        return runtime.census.of_topics(names)
    except Exception:
        log.exception("reading the consumer census failed")
        return None


def topic_as_json(
    topic: Topic, now: datetime | None = None, consumers: TopicConsumers | None = None
) -> dict[str, Any]:
    """The public description of one topic (``consumers``: its census, if known)."""
    return {
        "name": topic.name,
        "description": topic.description or _announced_description(topic.api_info),
        "is_public": topic.is_public,
        "online": is_online(topic, now),
        "last_ping": _iso(topic.last_ping),
        "last_pong": _iso(topic.last_pong),
        "api_info": topic.api_info,
        "functions": _member_names(topic.api_info, "functions"),
        "classes": _member_names(topic.api_info, "classes"),
        "consumers": consumers.consumers if consumers is not None else None,
        "subscriptions": consumers.subscriptions if consumers is not None else None,
    }


def _viewer_get(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """A GET/HEAD-only view called as ``view(request, user, **kwargs)`` with the caller.

    Other methods get 405, a bad token 401.
    """

    @functools.wraps(view)
    def checked(request: HttpRequest, **kwargs: Any) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            allowed = "GET, HEAD"
            return _error(405, f"method {request.method} not allowed; use GET", Allow=allowed)
        try:
            user = _caller(request)
        except AuthRefused as exc:
            return _error(401, exc.reason, WWW_Authenticate="Token")
        return view(request, user, **kwargs)

    return checked


@_viewer_get
def topic_list(request: HttpRequest, user: Any) -> JsonResponse:
    """GET /api/topics/ — the topics the caller may view, without response topics."""
    now = timezone.now()
    topics = visible_topics(user)
    online = request.GET.get("online", "").lower()
    if online in ("1", "true", "yes"):
        # the same rule as is_online, in SQL
        topics = topics.filter(last_pong__gte=now - _online_window())
    topics = list(topics)
    census = consumers_of([t.name for t in topics]) or {}
    return JsonResponse([topic_as_json(t, now, census.get(t.name)) for t in topics], safe=False)


@_viewer_get
def topic_detail(request: HttpRequest, user: Any, name: str) -> JsonResponse:
    """GET /api/topics/<name>/ — one topic, 404 if unknown or not visible to the caller."""
    topic = None if topic_name_error(name) else Topic.objects.filter(name=name).first()
    # an invisible topic looks exactly like a missing one, so names do not leak
    if topic is None or topic.is_response_topic or not may_view_topic(user, topic):
        return _error(404, f"topic {name!r} not found")
    census = consumers_of([topic.name]) or {}
    return JsonResponse(topic_as_json(topic, consumers=census.get(topic.name)))


def openapi(request: HttpRequest) -> JsonResponse:
    """GET /api/openapi.json — OpenAPI 3.1 description of this API."""
    # served next to the endpoints it describes, wherever the API is mounted
    return JsonResponse(openapi_document(server_url=request.path.rsplit("/", 1)[0]))


def _topic_schema() -> dict[str, Any]:
    timestamp = {"type": ["string", "null"], "format": "date-time"}
    names = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "required": list(topic_as_json(Topic(name="x")).keys()),
        "properties": {
            "name": {"type": "string", "description": "topic name (the module's URL segment)"},
            "description": {"type": "string"},
            "is_public": {"type": "boolean", "description": "anyone may call and view it"},
            "online": {
                "type": "boolean",
                "description": "a backend answered a broker ping within DASF_ONLINE_WINDOW",
            },
            "last_ping": timestamp,
            "last_pong": timestamp,
            "api_info": {
                "type": ["object", "null"],
                "description": "the backend's last api_info reply (ModuleAPIModel)",
            },
            "functions": {**names, "description": "names of the module's functions"},
            "classes": {**names, "description": "names of the module's classes"},
            "consumers": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "consumer sockets (module replicas) on all broker processes",
            },
            "subscriptions": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "distinct subscriptions: each request runs once per subscription",
            },
        },
    }


def openapi_document(server_url: str = "/api") -> dict[str, Any]:
    """The OpenAPI 3.1 description of the discovery API."""
    error = {"$ref": "#/components/schemas/Error"}
    auth_errors = {
        "401": {
            "description": "unknown or revoked token",
            "content": {"application/json": {"schema": error}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DASF broker discovery API",
            "version": "1",
            "description": (
                "Backend modules (topics) served by this broker, as far as the caller may "
                "view them. Authenticate with 'Authorization: Token <key>' (or Bearer), or "
                "the token query parameter; without a token the caller is anonymous."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{}, {"tokenHeader": []}, {"tokenQuery": []}],
        "paths": {
            "/topics/": {
                "get": {
                    "operationId": "listTopics",
                    "summary": "Topics the caller may view (response topics excluded)",
                    "parameters": [
                        {
                            "name": "online",
                            "in": "query",
                            "required": False,
                            "description": "true: only topics whose backend answered lately",
                            "schema": {"type": "boolean"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the topics",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Topic"},
                                    }
                                }
                            },
                        },
                        **auth_errors,
                    },
                }
            },
            "/topics/{name}/": {
                "get": {
                    "operationId": "getTopic",
                    "summary": "One topic",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": TOPIC_NAME_PATTERN.pattern},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the topic",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Topic"}
                                }
                            },
                        },
                        "404": {
                            "description": "unknown, or not visible to the caller",
                            "content": {"application/json": {"schema": error}},
                        },
                        **auth_errors,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Topic": _topic_schema(),
                "Error": {
                    "type": "object",
                    "required": ["detail"],
                    "properties": {"detail": {"type": "string"}},
                },
            },
            "securitySchemes": {
                "tokenHeader": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "'Authorization: Bearer <key>' or 'Authorization: Token <key>'",
                },
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
    }


urlpatterns = [
    re_path(r"^topics/?$", topic_list, name="dasf-topic-list"),
    re_path(r"^topics/(?P<name>[^/]+)/?$", topic_detail, name="dasf-topic-detail"),
    re_path(r"^openapi\.json$", openapi, name="dasf-openapi"),
]
