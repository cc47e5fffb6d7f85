"""Carrier tracking: poll the carriers, store their events once, and let each event change the
order, the exception inbox and the customer's inbox by itself (issue 15; docs/tracking.md).

Modules, in the order a poll cycle uses them:

* ``policy``   the branch's responses and cadence (Settings > Tracking); cadence and risk rules
* ``lease``    which workstation of a branch polls an account's shipments
* ``poller``   the cycle in three steps: ``plan`` (what is due) -> ``fetch`` (the carriers, no
               database) -> ``apply`` (a short write per account); ``run_cycle`` strings them
* ``ingest``   one carrier answer into events and the shipment's derived state, emitting the
               ``ShipmentTracked`` events of ``app.services.events``
* ``responses`` the ERP responses registered on those events (order shipped, exception cases)
* ``notices``  customer notices: templates, preferences, queued once per event
* ``queries``  the Tracking screen's and ``depot track``'s reads
"""
