"""Intercoder agreement: the statistics and the agreement workbooks."""
