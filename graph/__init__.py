"""smartcity-kg: curated data in, a checked RDF graph out (load → build → validate → publish)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
