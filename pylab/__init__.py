"""pylab: a process-lifecycle lab. Small C programs show how Unix processes are born,
end and are collected; Python drivers run them under supervision and observe them."""

__version__ = "0.1.0"
