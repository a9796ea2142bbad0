"""The smartcity-kg web service: SPARQL, linked data, REST, catalogue and pages over a published graph."""

__all__ = ["create_app"]

from api.app import create_app
