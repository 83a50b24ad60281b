"""Planning: who goes where, when — the nightly plan, intraday replanning and urgent insertion (docs/scheduling.md)."""

# The task engine records an urgent insertion through a function this domain registers (tasks never imports
# planning): importing the package, as the API and the scheduler do, registers it.
from eldercare_platform.planning import urgent as _urgent  # noqa: F401
