"""Linked data: `/id` names, `/doc` descriptions, `/vocab` concepts and the `/ontology`."""
