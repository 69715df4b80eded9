"""Step 1, familiarise: overview, keywords in context, code counts."""
