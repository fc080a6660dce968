"""XLSForm compilation, inspection and publishing (no Flask here)."""
