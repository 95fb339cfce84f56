"""Multi-venue backtests: the embedded synthetic market, the runner and its results.

Imported lazily by the CLI: `import nautilus_sor` does not load any of this.
"""
