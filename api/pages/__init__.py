"""The HTML pages people read: landing page, query editor, entity pages, templates and static files."""
