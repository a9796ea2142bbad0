"""`/sparql`: the SPARQL 1.1 Protocol endpoint, its checks, and query evaluation in killable worker processes."""

from api.http.client_limit import ClientLimit as ClientBudget  # a client's share of query time: seconds a minute
from api.sparql.answers import AnswerCache
from api.sparql.pool import Answer, Job, Pool, QueryFailedError, QueryPool

__all__ = ["Answer", "AnswerCache", "ClientBudget", "Job", "Pool", "QueryFailedError", "QueryPool"]
