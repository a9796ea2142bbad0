"""Shared HTTP concerns: negotiation, representations, caches, errors, limits, observability, health."""
