"""A third-party adapter, written as an outside author would write one (see test_third_party_contract)."""
