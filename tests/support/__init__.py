"""Test support shared by every test package: free ports, real processes and threaded servers,
the command line driven in-process, and the local services (Redis, PostgreSQL)."""
