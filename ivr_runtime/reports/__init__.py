"""Call history and statistics: aggregate queries for the API and the designer."""
