"""Reconciliation for tools: the W3C Reconciliation Service API at `/reconcile`, and the index of the things'
names and official identifiers it matches with (which `/api/v1/lookup` reads too)."""

from api.reconcile import routes

__all__ = ["routes"]
