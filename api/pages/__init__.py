"""HTML: the query editor, search and short links, and what every area renders its pages with (templates, values
as pages show them, the ontology's labels, diagrams, static files)."""
