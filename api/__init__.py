"""The smartcity-kg web service: SPARQL, linked data, REST, catalogue and pages over a published graph.

The application is built by `api.app.create_app`; importing this package loads nothing else, so the pipeline's
commands (`build`, `validate`, `query`) start without the web stack.
"""
