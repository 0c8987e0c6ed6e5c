"""Route modules: oauth, wellknown, peers, health."""
