"""Every shape of partner file in tests/fixtures/edi_shapes read, or refused with its reason.

The shapes are those of real partner files (see the folder's README): byte-order marks,
UTF-16, binary and space terminators, files wrapped at 80 columns, several interchanges,
ISB/ISE, 856 trees of every kind, ORDRSP action codes and quantities, acknowledgements,
and the damaged ones (NUL bytes, wrong counts, truncation). No database: this is what
``depot edi check`` and the first half of ``depot edi import`` see."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.services.edi import acks, edifact, x12
from app.services.edi.inbound import EdiImportError, detect_type, read_messages, standard_of
from app.services.edi.text import decode
from app.services.errors import DomainError

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "edi_shapes"


@dataclass(frozen=True)
class Read:
    """Imported as documents: the type, interchanges, and per line (PO, first item ref, qty now, backorder)."""

    type: str
    interchanges: int
    lines: tuple[tuple[str, str, int | None, int | None], ...] = ()
    warning: str = ""


@dataclass(frozen=True)
class Ack:
    """A partner's acknowledgement of our file: read, never imported, never acknowledged back."""

    verdicts: tuple[str, ...]


@dataclass(frozen=True)
class NotImported:
    """A readable interchange (counts right) of a kind Depot does not import."""

    type: str


@dataclass(frozen=True)
class Refused:
    reason: str


P1, P2, P6 = "DAL-PO-000501", "DAL-PO-000502", "DAL-PO-000601"
ACK855 = ((P1, "WIDGET", 24, None), (P1, "BOLT", 60, 40), (P1, "MILK", 0, None))
SOPI = ((P1, "WIDGET", 24, None), (P1, "BOLT", 60, None), (P1, "MILK", 50, None))
PRF_ITEMS = ((P1, "WIDGET", 24, None), (P1, "BOLT", 60, None), (P2, "BOLT", 30, None), (P2, "MILK", 12, None))
ORDRSP = ((P6, "00012345678905", 24, None), (P6, "BOLT", 60, 40), (P6, "MILK", 0, None))
DESADV = ((P6, "00012345678905", 24, None), (P6, "BOLT", 60, None))

EXPECTED: dict[str, Read | Ack | NotImported | Refused] = {
    "x12_855_bom_crlf_newline_terminator.x12": Read("855", 1, ACK855, "ISA12 version '00400'"),
    "x12_855_one_line_tilde.x12": Read("855", 1, ACK855),
    "x12_855_5010_repetition_separator.x12": Read("855", 1, ACK855),
    "x12_855_utf16.x12": Read("855", 1, ACK855, "came as UTF-16"),
    "x12_855_binary_delimiters.x12": Read("855", 1, ACK855),
    "x12_855_short_isa_space_crlf.x12": Read("855", 1, ACK855, "not fixed-width"),
    "x12_855_ctrl_z_and_nul_padding.x12": Read("855", 1, ACK855),
    "x12_855_se_count_wrong.x12": Refused("SE01 says 11 segments but transaction 855 0001 has 12"),
    "x12_855_truncated_no_iea.x12": Refused("truncated X12 file: group 1007 has no GE"),
    "x12_855_nul_in_segment_tag.x12": Refused("segment 8: 'P\\x001' is not a segment tag (damaged file?)"),
    "x12_855_control_char_in_data.x12": Refused("segment 4 (BAK) element 8 holds the control character 0x07"),
    "x12_856_sopi_sscc_bom.x12": Read("856", 1, SOPI),
    "x12_856_prf_inside_each_item_two_pos.x12": Read("856", 1, PRF_ITEMS),
    "x12_856_item_without_po_among_two.x12": Refused(
        "856: item 3 (BP:BOLT) names no purchase order (PRF) and the notice covers several"),
    "x12_856_ref_po_no_hl_parents.x12": Read("856", 1, ((P1, "WIDGET", 24, None), (P1, "ACME-BOLT-8", 60, None))),
    "x12_856_lin_under_order_no_item_hl.x12": Read("856", 1, ((P1, "WIDGET", 24, None), (P1, "BOLT", 60, None))),
    "x12_856_stpi_pallet.x12": Read("856", 1, ((P1, "00012345678905", 24, None),)),
    "x12_856_wrapped_80_columns.x12": Read("856", 1, SOPI, "wrapped at 80 columns"),
    "x12_856_two_interchanges.x12": Read("856", 2, SOPI + PRF_ITEMS),
    "x12_856_isb_ise.x12": Read("856", 1, SOPI),
    "x12_856_hl_parent_missing.x12": Refused("856: HL 3 names parent 9, which comes nowhere before it"),
    "x12_856_no_items.x12": Refused("856 ASN-7001: no item"),
    "x12_810_invoice.x12": NotImported("810"),
    "x12_850_purchase_order.x12": NotImported("850"),
    "x12_940_warehouse_shipping_order.x12": NotImported("940"),
    "x12_210_freight_invoice.x12": NotImported("210"),
    "x12_214_shipment_status.x12": NotImported("214"),
    "x12_997_accepting_our_850.x12": Ack(("accepted",)),
    "x12_997_rejecting_our_850.x12": Ack(("rejected",)),
    "x12_ta1_alone.x12": Ack(("accepted",)),
    "x12_empty.x12": Refused("the file is empty"),
    "not_edi_csv_by_mistake.txt": Refused("not an EDI file: it starts with neither ISA (X12) nor UNA/UNB (EDIFACT) "
                                          "but with 'sku,descript'"),
    "not_edi_pdf_by_mistake.x12": Refused("not an EDI file"),
    "edifact_ordrsp_action24_partial_backorder.edi": Read("ORDRSP", 1, ORDRSP),
    "edifact_ordrsp_po_only_in_rff_li.edi": Read("ORDRSP", 1, (("DAL-PO-000602", "00012345678905", 24, None),
                                                                ("DAL-PO-000602", "BOLT", 80, None))),
    "edifact_ordrsp_no_una_one_line.edi": Read("ORDRSP", 1, ORDRSP),
    "edifact_ordrsp_wrapped_80_columns.edi": Read("ORDRSP", 1, ORDRSP, "wrapped at a fixed width"),
    "edifact_ordrsp_release_character.edi": Read("ORDRSP", 1, ORDRSP),
    "edifact_ordrsp_bom.edi": Read("ORDRSP", 1, ORDRSP),
    "edifact_ordrsp_decimal_comma_una.edi": Read("ORDRSP", 1, ORDRSP),
    "edifact_utf16.edi": Read("ORDRSP", 1, ORDRSP, "came as UTF-16"),
    "edifact_ordrsp_unt_count_wrong.edi": Refused("UNT01 says 21 segments but message 1 (ORDRSP) has 22"),
    "edifact_ordrsp_nul_byte.edi": Refused("segment 13 (PIA) holds the control character 0x00"),
    "edifact_ordrsp_truncated_no_unt.edi": Refused("truncated EDIFACT file: message 1 (ORDRSP) has no UNT"),
    "edifact_desadv_cps_gin_sscc.edi": Read("DESADV", 1, DESADV),
    "edifact_desadv_ung_group.edi": Read("DESADV", 1, DESADV),
    "edifact_desadv_two_interchanges.edi": Read("DESADV", 2, DESADV + DESADV),
    "edifact_desadv_app_ref_wrong.edi": Read("DESADV", 1, DESADV, "UNB application reference 'INVOIC'"),
    "edifact_orders.edi": NotImported("ORDERS"),
    "edifact_invoic.edi": NotImported("INVOIC"),
    "edifact_contrl_accepting.edi": Ack(("accepted",)),
}


def test_every_shape_file_has_an_expectation() -> None:
    assert sorted(p.name for p in SHAPES.iterdir() if p.name != "README.md") == sorted(EXPECTED)


def _lines(data: bytes) -> tuple[int, list[tuple[str, str, int | None, int | None]], list[str], str]:
    envs = read_messages(data)
    lines = [(ln.po_number, ln.refs[0][1] if ln.refs else "", ln.qty, ln.backorder)
             for env in envs for doc in env.docs for ln in doc.lines]
    types = {doc.msg_type for env in envs for doc in env.docs}
    assert len(types) == 1
    return len(envs), lines, [w for env in envs for w in env.warnings], types.pop()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shape(name: str) -> None:
    data = (SHAPES / name).read_bytes()
    want = EXPECTED[name]
    if isinstance(want, Read):
        n, lines, warnings, kind = _lines(data)
        assert (kind, n) == (want.type, want.interchanges)
        assert lines == list(want.lines)
        if want.warning:
            assert any(want.warning in w for w in warnings), warnings
    elif isinstance(want, Refused):
        with pytest.raises(DomainError) as e:
            read_messages(data)
        assert want.reason in str(e.value)
        assert "\n" not in str(e.value) and "Traceback" not in str(e.value)
    elif isinstance(want, NotImported):
        assert detect_type(data) == want.type
        text = decode(data)
        ics = x12.parse_all(text) if standard_of(text) == "x12" else edifact.parse_all(text)
        for ic in ics:
            ic.check()  # the envelope is right: the 997 says so, Depot just does not import it
        with pytest.raises(EdiImportError, match=f"{want.type} is not a message Depot imports"):
            read_messages(data)
    else:
        text = decode(data)
        got = acks.read(text, standard_of(text))
        assert tuple(a.verdict for a in got) == want.verdicts
        with pytest.raises(EdiImportError, match="acknowledgement"):
            read_messages(data)
        if standard_of(text) == "x12":
            assert all(x12.is_acknowledgement(ic) for ic in x12.parse_all(text))


def test_the_856_with_prf_inside_each_item_keeps_each_line_on_its_own_po() -> None:
    """Issue 10's worst finding: every line used to land on the first PRF's PO."""
    (env,) = read_messages((SHAPES / "x12_856_prf_inside_each_item_two_pos.x12").read_bytes())
    (doc,) = env.docs
    by_po: dict[str, list[tuple[str, int | None]]] = {}
    for ln in doc.lines:
        by_po.setdefault(ln.po_number, []).append((ln.refs[0][1], ln.qty))
    assert by_po == {P1: [("WIDGET", 24), ("BOLT", 60)], P2: [("BOLT", 30), ("MILK", 12)]}
