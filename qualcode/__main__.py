"""`python -m qualcode`: the command line."""
from .cli import main

main()
