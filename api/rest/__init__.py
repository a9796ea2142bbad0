"""`/api/v1`: the JSON REST API, its models, lists, lookups and search, and its OpenAPI docs."""
