"""The demo's state variables, actions, user functions and status functions.

Imported at startup by the longcallbacks app (it autodiscovers ``callbacks`` modules), in
the web process and on workers alike, so every action and variable is registered there.
"""

# Imported for their side effects: declaring the variables and registering the actions.
from . import analysis, examples, variables  # noqa: F401
