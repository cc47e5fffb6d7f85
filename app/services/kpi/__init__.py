"""Manager KPIs: one registry of figures (``core``), one module per area that declares its own
(``sales``, ``purchasing`` ...; listed in ``catalog``), the computation with trends, splits and
drill-down (``compute``), scopes from user input (``scope``), targets (``targets``) and exports
(``export``). docs/kpis.md defines every figure."""
