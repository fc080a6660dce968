"""Accounts: phone collectors and staff, their tokens, and the access rules of who may see what."""
