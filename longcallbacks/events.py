"""Django signals sent when long callbacks report, state changes and notifications are made.

They are sent in the process that makes the change, when it is made (inside the transaction,
before commit), so receivers see changes that a later error may roll back. The pytest
plugin's recorder is built on them; applications may use them for metrics or auditing.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a status function was called. Arguments: record_id, state_id, function (the
# status function's dotted path), status (True, False, or the periodic count), result.
status_delivered = Signal()

# Sent for each committed-to-be change of a state. Arguments: state_id, version, changes.
state_changed = Signal()

# Sent when a notification is stored. Arguments: state_id, notification (the payload dict).
notification_sent = Signal()
