"""`python -m bot.cli` runs the `parley` command."""

from bot.cli.main import main

main()
