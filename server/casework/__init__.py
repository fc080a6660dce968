"""What staff do with synced data: the reads behind their pages and API, and their decisions."""
