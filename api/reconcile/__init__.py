"""Reconciliation for tools: the W3C Reconciliation Service API at `/reconcile`, lookups by official identifiers."""

from api.reconcile import lookup, routes

__all__ = ["lookup", "routes"]
