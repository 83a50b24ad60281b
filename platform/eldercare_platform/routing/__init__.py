"""The routing engine: the planning problem as plain data, travel models, and the planners (PyVRP, greedy).

Pure: it imports no domain and touches no database (import-linter's `routing-pure` contract); the planning
domain feeds it and applies its answers (docs/scheduling.md)."""
