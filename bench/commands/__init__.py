"""The commands of `python -m bench`, one module each, named as the command: `bench all` is all.py. Each has
main(args) -> exit status; bench/cli.py parses the command line and imports only the module of the command
asked for. These modules are the command layer: the only ones in bench that may import analysis.
"""
