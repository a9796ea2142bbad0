"""One router per area of the URL space."""
