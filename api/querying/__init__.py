"""Query evaluation off the event loop: worker processes that can be killed, and each client's share of them."""

from api.querying.answers import AnswerCache
from api.querying.budget import ClientBudget
from api.querying.pool import Answer, Job, QueryFailedError, QueryPool

__all__ = ["Answer", "AnswerCache", "ClientBudget", "Job", "QueryFailedError", "QueryPool"]
