"""`/catalog`, `/.well-known/void` and `/dumps`: the dataset described for portals and crawlers."""
