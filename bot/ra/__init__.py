"""RetroAchievements' V1 web API: the endpoints (client.py) over one transport (transport.py)
that every request passes: the process's limiter (limiter.py, shared through Redis by
shared_budget.py), the circuit (circuit.py), retries, and typed errors (errors.py). It knows
nothing of Discord."""
