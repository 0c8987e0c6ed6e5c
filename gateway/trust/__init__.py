"""The trust layer: participant directory, client authentication, access tokens, DPoP, replay
caches and the outbound client. Nothing here knows about HTTP status codes; see
:mod:`gateway.errors` for the mapping."""
