"""`python -m bench.routing`: the planner measured on public VRPTW instances, on a generated district's day, and on
urgent insertion under a live plan (docs/scheduling.md)."""
