"""carbonlink gateway: the service registries exchange messages through, its trust layer and CLI."""
