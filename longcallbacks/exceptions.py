"""Exceptions raised by the public API and recorded on failed long callbacks."""

from __future__ import annotations


class LongCallbackError(Exception):
    """Base class of this app's own errors."""


class RejectedFunction(LongCallbackError, ValueError):
    """A function that may not run on a worker: not a module-level function of an allowed module."""


class TooManyLongCallbacks(LongCallbackError):
    """The state already has ``MAX_RUNNING_PER_STATE`` long callbacks queued or running."""


class StateNotFound(LongCallbackError, LookupError):
    """No stored state has the given id (it was pruned, or the id is wrong)."""


class ResultNotJSON(LongCallbackError, TypeError):
    """A user function returned a value that cannot be stored as JSON."""


class PublishFailed(LongCallbackError):
    """The task message could not be sent to the Celery broker."""


class WorkerLost(LongCallbackError):
    """The worker running a long callback stopped (killed or crashed) before the function ended."""


class QueueExpired(LongCallbackError):
    """No worker started a long callback within ``QUEUE_EXPIRY`` seconds."""


class TaskTimeLimit(LongCallbackError):
    """The user function ran past Celery's hard time limit and its process was killed."""


class LongCallbackCancelled(LongCallbackError):
    """Raised by ``set_progress`` inside a user function whose long callback was cancelled.

    Let it propagate: the run already ended as cancelled, and its result would be ignored.
    """
