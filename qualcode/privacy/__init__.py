"""Privacy: pseudonymisation of names, e-mail addresses and phone numbers."""
