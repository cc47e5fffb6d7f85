"""Partner files and a spreadsheet to try on the demo database, written beside it.

Real partners send files shaped in ways the readers must take (issue 10): an 856 whose PO sits
inside each item, a byte-order mark, several interchanges in one file, lines wrapped at 80
columns, an ORDRSP that confirms part and backorders the rest; and damaged ones that must be
refused. Staff export spreadsheets from Excel in Windows-1252 with semicolons. The demo seed
writes one of each, made from its own POs, into ``<db>-samples/`` so a new user sees them at
work (``depot edi poll --inbound <db>-samples/edi-inbound``, Buying > Supplier confirmations >
Import file..., ``depot import items <db>-samples/items-excel-windows1252.csv``).
"""

from __future__ import annotations

import codecs
import datetime as dt
import sqlite3
from pathlib import Path

from app.services.edi import edifact, x12

README = """Partner files and a spreadsheet made for this demo database (they name its POs and items).

edi-inbound/  try: depot --db {db} edi poll --inbound {folder}/edi-inbound --user buyer
              or:  Buying > Supplier confirmations > Import file... (one file at a time)
  1-856-po-inside-each-item-bom.x12   856 for two POs, each item's PO (PRF) inside its own HL,
                                      a UTF-8 byte-order mark, CRLF: each line lands on its own PO
  2-855-two-interchanges.x12          two ISA..IEA in one file (a VAN batch); one line partly
                                      backordered (ACK IA + IB); poll writes one 997 per interchange
  3-856-wrapped-80-columns.x12        an 856 hard-wrapped at 80 columns (a mainframe mailbox)
  4-ordrsp-partial.edi                EDIFACT ORDRSP: action 24, QTY+12 now and QTY+83 backordered
  5-damaged-nul-byte.x12              a NUL byte inside a segment tag: refused, moved to error/
items-excel-windows1252.csv           items as Excel saves them on a German Windows: Windows-1252,
                                      semicolons, decimal commas, CRLF, empty trailing columns
                                      try: depot --db {db} import items {folder}/items-excel-windows1252.csv
"""

EXCEL_ITEMS = ("sku;description;standard_cost;list_price;category;velocity_class;;\r\n"
               "CAF-0001;Café crème 1 kg;3,10;6,49;Getränke;B;;\r\n"
               "OEL-0005;Öl für Kühlschränke – 5 l;12,00;19,90;Zubehör;C;;\r\n"
               "EUR-0001;Preisschild „€ netto“;0,0725;0,19;Büro;C;;\r\n")


def _sent_pos(conn: sqlite3.Connection, fmt: str) -> tuple[tuple[str, str, str], list[tuple[str, list[tuple[int, str, int]]]]]:
    """((supplier edi qualifier, id, our branch code), [(PO number, [(line, sku, qty)])]) of the
    supplier of ``fmt`` with the most POs still sent (at most two POs)."""
    rows = conn.execute(
        "SELECT s.edi_qualifier, s.edi_id, b.code, p.number, l.line_no, i.sku, l.qty_ordered - l.qty_received "
        "FROM purchase_order p JOIN supplier s ON s.id = p.supplier_id "
        "JOIN purchase_order_line l ON l.po_id = p.id AND l.deleted_at IS NULL JOIN item i ON i.id = l.item_id "
        "JOIN branch b ON b.id = p.owner_branch_id "
        "WHERE p.status = 'sent' AND s.edi_format = ? AND s.edi_id != '' AND l.qty_ordered > l.qty_received "
        "ORDER BY s.code, p.number, l.line_no", (fmt,)).fetchall()
    by_supplier: dict[tuple[str, str, str], dict[str, list[tuple[int, str, int]]]] = {}
    for qual, edi_id, branch, number, line, sku, qty in rows:
        by_supplier.setdefault((qual, edi_id, branch), {}).setdefault(number, []).append((line, sku, qty))
    if not by_supplier:
        return ("", "", ""), []
    key = max(by_supplier, key=lambda k: (len(by_supplier[k]), k[1]))
    return key, [(n, lines[:3]) for n, lines in sorted(by_supplier[key].items())[:2]]


def _x12(partner: tuple[str, str, str], control: int, fid: str, sets: list[tuple[str, list[list[str]]]],
         when: dt.datetime) -> str:
    qual, edi_id, branch = partner
    return x12.write_interchange(sender=(qual, edi_id), receiver=("ZZ", f"DEPOT{branch}"), control=control,
                                 functional_id=fid, transactions=sets, when=when)


def _856(ref: str, pos: list[tuple[str, list[tuple[int, str, int]]]], when: dt.datetime) -> list[list[str]]:
    day = when.strftime("%Y%m%d")
    due = (when + dt.timedelta(days=4)).strftime("%Y%m%d")
    body = [["BSN", "00", ref, day, "1000"], ["DTM", "011", day], ["DTM", "017", due], ["HL", "1", "", "S"],
            ["TD5", "O", "2", "RDWY", "M"], ["REF", "CN", f"PRO-{ref[-6:]}"]]
    n = 1
    for number, lines in pos:
        for line, sku, qty in lines:
            n += 1
            body += [["HL", str(n), "1", "I"], ["LIN", str(line), "BP", sku], ["SN1", str(line), str(qty), "EA"],
                     ["PRF", number]]
    body.append(["CTT", str(n - 1)])
    return body


def write_samples(db_path: Path, *, today: dt.date | None = None) -> Path | None:
    """Write the sample files beside ``db_path``; returns their folder (None when the data has no
    sent PO of an EDI supplier to name)."""
    conn = sqlite3.connect(db_path)
    try:
        x_partner, x_pos = _sent_pos(conn, "x12")
        e_partner, e_pos = _sent_pos(conn, "edifact")
    finally:
        conn.close()
    if not x_pos:
        return None
    when = dt.datetime.combine(today or dt.date.today(), dt.time(10, 0), dt.UTC)
    folder = db_path.parent / f"{db_path.stem}-samples"
    inbound = folder / "edi-inbound"
    inbound.mkdir(parents=True, exist_ok=True)
    asn = _x12(x_partner, 90001, "SH", [("856", _856("SHIP-DEMO-0001", x_pos, when))], when)
    (inbound / "1-856-po-inside-each-item-bom.x12").write_bytes(codecs.BOM_UTF8 + asn.replace("\n", "\r\n").encode())
    batch = ""
    for k, (number, lines) in enumerate(x_pos):
        body = [["BAK", "00", "AC", number, when.strftime("%Y%m%d")]]
        for i, (line, sku, qty) in enumerate(lines):
            body.append(["PO1", str(line), str(qty), "EA", "", "", "BP", sku])
            now = qty if (i or k) else qty - qty // 4  # the first line of the first PO: a quarter later
            body.append(["ACK", "IA", str(now), "EA", "068", (when + dt.timedelta(days=4)).strftime("%Y%m%d")])
            if now != qty:
                body.append(["ACK", "IB", str(qty - now), "EA", "068", (when + dt.timedelta(days=30)).strftime("%Y%m%d")])
        body.append(["CTT", str(len(lines))])
        batch += _x12(x_partner, 90002 + k, "PR", [("855", body)], when)
    (inbound / "2-855-two-interchanges.x12").write_text(batch, encoding="latin-1")
    flat = _x12(x_partner, 90005, "SH", [("856", _856("SHIP-DEMO-0002", x_pos[:1], when))], when).replace("\n", "")
    wrapped = "\r\n".join(flat[i:i + 80] for i in range(0, len(flat), 80)) + "\r\n"
    (inbound / "3-856-wrapped-80-columns.x12").write_text(wrapped, encoding="latin-1")
    if e_pos:
        number, lines = e_pos[0]
        segs = [edifact.seg("BGM", "231", f"RSP-{number}", "4"), edifact.seg("DTM", ["137", when.strftime("%Y%m%d"), "102"]),
                edifact.seg("RFF", ["ON", number])]
        for i, (line, sku, qty) in enumerate(lines):
            segs += [edifact.seg("LIN", str(line), "24" if i == 0 else "5"), edifact.seg("PIA", "5", [sku, "BP"]),
                     edifact.seg("QTY", ["21", str(qty)])]
            if i == 0 and qty > 1:
                segs += [edifact.seg("QTY", ["12", str(qty - qty // 2)]), edifact.seg("QTY", ["83", str(qty // 2)])]
        segs.append(edifact.seg("UNS", "S"))
        text = edifact.write_interchange(sender=(e_partner[1], e_partner[0] or "14"), recipient=(f"DEPOT{e_partner[2]}", "ZZ"),
                                         control=90006, messages=[("ORDRSP", "D:96A:UN:EAN005", segs)], when=when)
        (inbound / "4-ordrsp-partial.edi").write_text(text, encoding="latin-1")
    damaged = _x12(x_partner, 90007, "SH", [("856", _856("SHIP-DEMO-0003", x_pos[:1], when))], when)
    (inbound / "5-damaged-nul-byte.x12").write_text(damaged.replace("\nSN1*", "\nS\x00N1*", 1), encoding="latin-1")
    (folder / "items-excel-windows1252.csv").write_bytes(EXCEL_ITEMS.encode("cp1252"))
    (folder / "README.txt").write_text(README.format(db=db_path.resolve(), folder=folder.resolve()), encoding="utf-8")
    return folder
