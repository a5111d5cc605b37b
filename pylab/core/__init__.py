"""Names every layer shares and nothing else: exit codes and UsageError, the three stdout
targets, wait statuses and signals in words. Imports nothing of pylab."""
