"""The per-user State: declared variables persisted in the database and pushed to tabs.

Every change runs under the state's row lock (``SELECT ... FOR UPDATE``; on SQLite the
database write lock), commits atomically and bumps the version, so concurrent callbacks on one
state never lose an update. Committed changes are published to the state's group as diffs.
"""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import events, layer
from .conf import lc_settings
from .exceptions import StateNotFound
from .models import StoredState
from .serialization import check_json_value
from .variables import registry

SESSION_KEY = "_longcallbacks_state_id"

_held = threading.local()


def _held_states() -> dict[str, State]:
    states: dict[str, State] | None = getattr(_held, "states", None)
    if states is None:
        states = {}
        _held.states = states
    return states


def held_state(state_id: str) -> State | None:
    """Return the State this thread has locked for ``state_id``, so nested calls share it."""
    return _held_states().get(state_id)


class State:
    """Attribute access to one user's declared variables.

    Outside a lock each assignment is its own change: it locks the row, commits and is
    pushed. Inside ``with state:`` all assignments become one change, pushed on exit; an
    exception inside rolls them back and propagates. A State object belongs to one thread.
    """

    def __init__(self, state_id: str, *, user_id: Any = None) -> None:
        object.__setattr__(self, "_state_id", state_id)
        object.__setattr__(self, "_user_id", user_id)
        object.__setattr__(self, "_data", None)
        object.__setattr__(self, "_version", 0)
        object.__setattr__(self, "_pending", [])
        object.__setattr__(self, "_group_depth", 0)
        object.__setattr__(self, "_group_index", None)
        object.__setattr__(self, "_atomics", [])
        # Pushes to send after this lock's state diffs, so a tab sees a value change before a
        # toast that a callback sent after making it.
        object.__setattr__(self, "_deferred", [])

    def __repr__(self) -> str:
        return f"<State {self._state_id}>"

    # Reading and writing variables.

    def _ensure_loaded(self) -> dict[str, Any]:
        if self._data is None:
            row = StoredState.objects.filter(pk=self._state_id).values("data", "version").first()
            if row is None:
                raise StateNotFound(f"No state with id {self._state_id!r} exists; it may have been pruned.")
            object.__setattr__(self, "_data", row["data"])
            object.__setattr__(self, "_version", row["version"])
        data: dict[str, Any] = self._data
        return data

    def _check_declared(self, name: str) -> None:
        if name not in registry:
            declared = ", ".join(registry.names()) or "none"
            raise AttributeError(
                f"State has no variable {name!r}. Declared variables: {declared}. "
                f"Declare it as a class attribute of a StateVariables subclass."
            )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        self._check_declared(name)
        if not self._atomics:
            # Outside a lock every read is fresh: another process may have changed the state.
            object.__setattr__(self, "_data", None)
        data = self._ensure_loaded()
        if name in data:
            # A copy, so that mutating a list in place cannot look like a saved change.
            return copy.deepcopy(data[name])
        return registry.default(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        self.assign(name, value)

    def assign(self, name: str, value: Any) -> Any:
        """Set a variable and return its old value."""
        self._check_declared(name)
        value = check_json_value(value, f"The value of state variable {name!r}")
        with self._locked():
            data = self._ensure_loaded()
            old = copy.deepcopy(data[name]) if name in data else registry.default(name)
            data[name] = value
            if self._group_depth > 0:
                self._pending[self._group_index][name] = value
            else:
                self._pending.append({name: value})
        return old

    def refresh(self, name: str) -> Any:
        """Reload a variable from the database and push its value to every tab again."""
        self._check_declared(name)
        if not self._atomics:
            object.__setattr__(self, "_data", None)
        value = getattr(self, name)
        state_id, version = self._state_id, self._version
        transaction.on_commit(
            lambda: layer.publish(
                state_id,
                {"type": layer.STATE_REFRESH, "state_id": state_id, "version": version, "changes": {name: value}},
            )
        )
        return value

    def snapshot(self) -> dict[str, Any]:
        """Return the version and every declared variable, read fresh unless the state is locked."""
        if not self._atomics:
            object.__setattr__(self, "_data", None)
        data = self._ensure_loaded()
        variables = {
            name: copy.deepcopy(data[name]) if name in data else registry.default(name) for name in registry.names()
        }
        return {"version": self._version, "variables": variables}

    # Grouping and locking.

    def __enter__(self) -> State:
        self._enter_lock()
        if self._group_depth == 0:
            self._pending.append({})
            object.__setattr__(self, "_group_index", len(self._pending) - 1)
        object.__setattr__(self, "_group_depth", self._group_depth + 1)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        object.__setattr__(self, "_group_depth", self._group_depth - 1)
        if self._group_depth == 0:
            object.__setattr__(self, "_group_index", None)
        self._exit_lock(exc_type, exc, tb)

    @contextmanager
    def _locked(self) -> Iterator[State]:
        """Hold the row lock: the outermost level is a transaction, inner levels savepoints."""
        self._enter_lock()
        try:
            yield self
        except BaseException:
            self._exit_lock(*sys.exc_info())
            raise
        self._exit_lock(None, None, None)

    def _enter_lock(self) -> None:
        atomic = transaction.atomic()
        if not self._atomics:
            other = held_state(self._state_id)
            if other is not None and other is not self:
                raise RuntimeError(
                    f"State {self._state_id} is already locked by another State object in this thread; "
                    f"use the state passed to your callback."
                )
            atomic.__enter__()
            try:
                row = (
                    StoredState.objects.select_for_update().filter(pk=self._state_id).values("data", "version").first()
                )
                if row is None:
                    raise StateNotFound(f"No state with id {self._state_id!r} exists; it may have been pruned.")
            except BaseException:
                atomic.__exit__(*sys.exc_info())
                raise
            object.__setattr__(self, "_data", row["data"])
            object.__setattr__(self, "_version", row["version"])
            object.__setattr__(self, "_pending", [])
            object.__setattr__(self, "_deferred", [])
            _held_states()[self._state_id] = self
            self._atomics.append((atomic, None))
            return

        atomic.__enter__()
        saved = (copy.deepcopy(self._data), copy.deepcopy(self._pending), len(self._deferred))
        self._atomics.append((atomic, saved))

    def _exit_lock(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        atomic, saved = self._atomics.pop()
        if saved is not None:
            if exc_type is not None:
                object.__setattr__(self, "_data", saved[0])
                object.__setattr__(self, "_pending", saved[1])
                del self._deferred[saved[2] :]
            atomic.__exit__(exc_type, exc, tb)
            return

        _held_states().pop(self._state_id, None)
        if exc_type is None:
            try:
                self._write_pending()
                for callback in self._deferred:
                    transaction.on_commit(callback)
                object.__setattr__(self, "_deferred", [])
            except BaseException:
                self._forget()
                atomic.__exit__(*sys.exc_info())
                raise
        else:
            self._forget()
        try:
            atomic.__exit__(exc_type, exc, tb)
        except BaseException:
            self._forget()
            raise

    def _forget(self) -> None:
        object.__setattr__(self, "_data", None)
        object.__setattr__(self, "_pending", [])
        object.__setattr__(self, "_deferred", [])

    def _publish_after_changes(self, callback: Callable[[], object]) -> None:
        """Send ``callback`` after this lock's state diffs when the transaction commits."""
        if self._atomics:
            self._deferred.append(callback)
        else:
            transaction.on_commit(callback)

    def _write_pending(self) -> None:
        changes = [change for change in self._pending if change]
        object.__setattr__(self, "_pending", [])
        if not changes:
            return
        base = self._version
        version = base + len(changes)
        StoredState.objects.filter(pk=self._state_id).update(
            data=self._data, version=version, updated_at=timezone.now()
        )
        object.__setattr__(self, "_version", version)

        diffs = [(base + index + 1, change) for index, change in enumerate(changes)]
        state_id = self._state_id
        transaction.on_commit(lambda: layer.publish_state_diffs(state_id, diffs))
        for diff_version, change in diffs:
            events.state_changed.send(sender=State, state_id=state_id, version=diff_version, changes=change)


def resolve_state_id(session: Any, user: Any = None, *, create: bool = True) -> str | None:
    """Return the state id of a session (or of an authenticated user, by the STATE_SCOPE setting).

    Only server-side data is used: the session store and the authenticated user, never a
    value the browser sends.
    """
    scope = lc_settings.STATE_SCOPE
    if scope not in (StoredState.Scope.SESSION, StoredState.Scope.USER):
        raise ImproperlyConfigured(f"LONGCALLBACKS['STATE_SCOPE'] is {scope!r}; use 'session' or 'user'.")

    if scope == StoredState.Scope.USER and user is not None and user.is_authenticated:
        stored = StoredState.objects.filter(scope=scope, user=user).only("id").first()
        if stored is None:
            if not create:
                return None
            try:
                with transaction.atomic():
                    stored = StoredState.objects.create(scope=scope, user=user)
            except IntegrityError:
                stored = StoredState.objects.get(scope=scope, user=user)
        return stored.id

    state_id = session.get(SESSION_KEY)
    if state_id and StoredState.objects.filter(pk=state_id).exists():
        return str(state_id)
    if not create:
        return None
    stored = StoredState.objects.create(
        scope=StoredState.Scope.SESSION,
        session_key=session.session_key or "",
        user=user if user is not None and user.is_authenticated else None,
    )
    session[SESSION_KEY] = stored.id
    return stored.id


def get_state(request: HttpRequest) -> State:
    """Return the State of the request's session, creating it on first use."""
    cached = getattr(request, "_longcallbacks_state", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    if not hasattr(request, "session"):
        raise ImproperlyConfigured(
            "get_state() needs request.session: add "
            "'django.contrib.sessions.middleware.SessionMiddleware' to MIDDLEWARE."
        )
    user = getattr(request, "user", None)
    state_id = resolve_state_id(request.session, user)
    assert state_id is not None  # create=True always returns an id
    user_id = user.pk if user is not None and user.is_authenticated else None
    state = State(state_id, user_id=user_id)
    request._longcallbacks_state = state  # type: ignore[attr-defined]
    return state


def as_state(state: State | HttpRequest) -> State:
    """Accept a State, or a request whose session's State is meant."""
    if isinstance(state, State):
        return state
    if isinstance(state, HttpRequest):
        return get_state(state)
    raise TypeError(f"Expected a State or an HttpRequest, not {type(state).__name__} {state!r}.")


def get_state_id(state: State | HttpRequest) -> str:
    """Return the id that ``invoke_callback`` takes to reach this state from elsewhere."""
    state_id: str = as_state(state)._state_id
    return state_id
