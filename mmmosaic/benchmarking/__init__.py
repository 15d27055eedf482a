"""Tools that benchmark scripts share."""
