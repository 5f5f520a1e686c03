"""Wire-level data structures shared by the API, the store and the providers."""
