"""The analysis of a run: it reads the results tables a backtest (or anything else) wrote and never
imports the harness (`nautilus_sor.backtest`).

- `results`: the tables' schema, and loading a saved run directory (verified);
- `scenarios`: the names the `scenario` column takes and their display order;
- `market`: the consolidated quote and the as-of join every metric prices against;
- `stats`: the one 95% Student-t interval and paired difference of the package;
- `tca`: the transaction-cost metrics (`tca_columns`: what each column means; `tca_text`: plain text);
- `headline`: the router's paired saving against each baseline over the repeats;
- `report`: the HTML report, a package of sections over a public HTML toolkit (`report.html`).

Nothing here is imported by `import nautilus_sor`: pandas and plotly load only when an analysis runs.
"""
