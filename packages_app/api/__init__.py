"""The metadata API under /api/v1/: paginated, cacheable, JSON only (DRF)."""
