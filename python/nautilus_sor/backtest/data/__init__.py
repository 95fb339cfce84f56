"""Recorded markets: loaders for real data (Binance L2 on three markets, Lean US equity ticks and bars,
Lean crypto minute bars) and any Nautilus `ParquetDataCatalog`, all giving one shape, `RecordedMarket`.

Imported lazily: `import nautilus_sor` does not load any of this.
"""
