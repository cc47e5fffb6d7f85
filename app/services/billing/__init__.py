"""Billing (issue 16): invoices and credit notes from shipped lines, the receivables ledger's
payments, ageing, DSO and statements, and the documents a clerk prints and mails.

Modules: ``receivables`` (open items, payments by hand, ageing, DSO), ``bank`` (a bank export's
payments), ``statements`` (a customer's statement as data and PDF), ``tax`` (rates and rounding),
``shipped`` (what a shipment billed: the one place that reads Dispatch), ``invoices`` (make,
release, list, show), ``credits`` (credit notes), ``release`` (the follow-ups that release on
delivery or shipment), ``documents`` (the invoice PDF), ``edi_out`` (X12 810 / EDIFACT INVOIC),
``printables`` (billing's documents in the print registry).
"""
