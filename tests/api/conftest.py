"""Fixtures of the API tests."""

from tests.api.openapi_world import vendor_api

__all__ = ["vendor_api"]
