"""Planning: who goes where, when — the nightly plan, intraday replanning and urgent insertion (docs/scheduling.md)."""
