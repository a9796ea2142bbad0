"""`/catalog`, `/.well-known/void`, `/dumps` and `/`: the dataset described for portals, crawlers and people."""
