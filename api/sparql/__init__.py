"""`/sparql`: the SPARQL 1.1 Protocol endpoint, its checks, and query evaluation in killable worker processes."""

from api.sparql.answers import AnswerCache
from api.sparql.pool import Answer, Job, Pool, QueryFailedError, QueryPool

__all__ = ["Answer", "AnswerCache", "Job", "Pool", "QueryFailedError", "QueryPool"]
