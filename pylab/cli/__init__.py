"""The command line: imports everything, imported by nothing (pylab.cli.main is the entry point)."""
