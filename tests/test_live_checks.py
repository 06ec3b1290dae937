"""System checks of the live side: the channel layer and the websocket limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from longcallbacks.checks import check_channel_layer, check_live_limits

REDIS_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://x", "socket_timeout": None}]},
    }
}
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_redis_layer_passes() -> None:
    with override_settings(CHANNEL_LAYERS=REDIS_LAYER, CELERY_BROKER_URL="redis://x"):
        assert check_channel_layer() == []


@pytest.mark.parametrize("layers", [{}, {"other": REDIS_LAYER["default"]}, {"default": {}}])
def test_missing_layer(layers: dict[str, Any]) -> None:
    with override_settings(CHANNEL_LAYERS=layers):
        assert ids(check_channel_layer()) == ["longcallbacks.E005"]


def test_layer_alias_setting_used() -> None:
    with override_settings(CHANNEL_LAYERS={"live": REDIS_LAYER["default"]}, LONGCALLBACKS={"CHANNEL_LAYER": "live"}):
        assert check_channel_layer() == []


def test_unimportable_backend() -> None:
    with override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "missing.module.Layer"}}):
        messages = check_channel_layer()
    assert ids(messages) == ["longcallbacks.E006"]
    assert "missing.module.Layer" in messages[0].msg


def test_memory_layer_with_separate_worker_warns() -> None:
    with override_settings(CHANNEL_LAYERS=MEMORY_LAYER, CELERY_BROKER_URL="redis://127.0.0.1:6379/0"):
        messages = check_channel_layer()
    assert ids(messages) == ["longcallbacks.W004"]
    assert "redis://" in messages[0].msg


@pytest.mark.parametrize(
    "extra", [{"CELERY_BROKER_URL": "memory://"}, {"CELERY_BROKER_URL": "redis://x", "CELERY_TASK_ALWAYS_EAGER": True}]
)
def test_memory_layer_in_one_process_passes(extra: dict[str, Any]) -> None:
    with override_settings(CHANNEL_LAYERS=MEMORY_LAYER, **extra):
        assert check_channel_layer() == []


def test_default_limits_pass() -> None:
    assert check_live_limits() == []


@pytest.mark.parametrize(
    "overrides",
    [{"MAX_FRAME_SIZE": 0}, {"ACTION_RATE_LIMIT": -1}, {"ACTION_RATE_PERIOD": "1"}, {"MAX_FRAME_SIZE": True}],
)
def test_invalid_limits(overrides: dict[str, Any]) -> None:
    with override_settings(LONGCALLBACKS=overrides):
        messages = check_live_limits()
    assert ids(messages) == ["longcallbacks.E007"]
    assert repr(next(iter(overrides.values()))) in messages[0].msg


def test_heartbeat_not_shorter_than_timeout_warns() -> None:
    with override_settings(LONGCALLBACKS={"CONNECTION_HEARTBEAT_INTERVAL": 90, "CONNECTION_TIMEOUT": 90}):
        assert ids(check_live_limits()) == ["longcallbacks.W005"]


@pytest.mark.parametrize("hosts", [["redis://x"], [{"address": "redis://x"}], None])
def test_redis_layer_without_socket_timeout_warns(hosts: list[Any] | None) -> None:
    from longcallbacks.checks import redis_client_major

    config = {"hosts": hosts} if hosts is not None else {}
    layers = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": config}}
    with override_settings(CHANNEL_LAYERS=layers, CELERY_BROKER_URL="redis://x"):
        messages = check_channel_layer()
    if redis_client_major() >= 8:
        assert ids(messages) == ["longcallbacks.W006"]
    else:
        assert messages == []


def test_test_settings_pass_all_live_checks() -> None:
    assert check_channel_layer() == []
    assert check_live_limits() == []
