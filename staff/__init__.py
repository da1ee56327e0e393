"""The staff side: the handoff queue API now; the staff workspace pages build on it."""
