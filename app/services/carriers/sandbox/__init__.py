"""The Depot carrier sandbox: a real local HTTP server speaking UPS, FedEx, DHL and USPS wire
formats, moving parcels along on accelerated time (``world``), quoting from a lane table
(``lanes``), issuing 4x6 labels, and misbehaving on request (``faults``)."""
