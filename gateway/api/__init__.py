"""HTTP layer: dependencies, routes and middleware."""
