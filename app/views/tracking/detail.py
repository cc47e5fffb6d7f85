"""One shipment under the Tracking list: what it is and where (header), its timeline (newest first;
the event the shipment follows in bold), the proof of delivery, and the notices and open cases
it caused. Fed a ``queries.ShipmentDetail``; reads nothing itself."""

from __future__ import annotations

import datetime as dt
import html

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHeaderView,
    QLabel,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.tracking.queries import ShipmentDetail
from app.views.tracking.models import RISK_COLOURS, day, local, prediction_tip, risk_key, risk_text

NOTICE_WORDS = {"shipped": "shipped notice", "eta": "new date notice", "delivered": "delivered notice",
                "exception": "problem notice"}


class ShipmentDetailPane(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trackingDetail")
        self.header = QLabel("Select a shipment to see its timeline.")
        self.header.setObjectName("trackingHeader")
        self.header.setWordWrap(True)
        self.timeline = QTreeWidget()
        self.timeline.setObjectName("trackingTimeline")
        self.timeline.setHeaderLabels(["When", "Status", "What the carrier says", "Where", "Notice"])
        self.timeline.setRootIsDecorated(False)
        self.timeline.setAlternatingRowColors(True)
        head = self.timeline.header()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.pod_box = QWidget()
        self.pod_box.setObjectName("trackingPod")
        form = QFormLayout(self.pod_box)
        self.pod_state = QLabel("")
        self.pod_state.setWordWrap(True)
        self.pod_signed = QLabel("")
        self.pod_at = QLabel("")
        self.pod_where = QLabel("")
        self.pod_image = QLabel("")
        self.pod_image.setWordWrap(True)
        form.addRow(self.pod_state)
        form.addRow("Signed for by", self.pod_signed)
        form.addRow("Delivered", self.pod_at)
        form.addRow("Where", self.pod_where)
        form.addRow("Signature image", self.pod_image)
        self.notices = QTreeWidget()
        self.notices.setObjectName("trackingNotices")
        self.notices.setHeaderLabels(["Notice / case", "To / for", "Status", "When"])
        self.notices.setRootIsDecorated(False)
        self.notices.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.pod_box, "Proof of delivery")
        self.tabs.addTab(self.notices, "Notices and cases")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        self.detail: ShipmentDetail | None = None

    def clear(self) -> None:
        self.detail = None
        self.header.setText("Select a shipment to see its timeline.")
        self.timeline.clear()
        self.notices.clear()
        self.tabs.setTabText(2, "Notices and cases")  # not the last shipment's count
        self.pod_state.setText("")
        for w in (self.pod_signed, self.pod_at, self.pod_where, self.pod_image):
            w.setText("")

    def show_detail(self, d: ShipmentDetail) -> None:
        self.detail = d
        r = d.row
        bg, fg = RISK_COLOURS.get(risk_key(r), ("", ""))
        risk = f"<span style='color:{fg or '#444'}; background:{bg or 'transparent'}'>&nbsp;{risk_text(r)}&nbsp;</span>"
        status = html.escape(r.status.replace("_", " "))
        said = f" &middot; <i>{html.escape(r.status_text)}</i>" if r.status_text else ""
        eta = f"delivered {local(r.delivered_at, '%a %d %b %H:%M')}" if r.status == "delivered" and r.delivered_at \
            else f"ETA {day(r.eta) or '-'}"
        polled = (f"next poll {local(r.next_poll_at, '%H:%M')}" if r.next_poll_at
                  else f"polling stopped ({r.stopped or 'not started'})")
        lines = [
            f"<b>{html.escape(r.number)}</b> &middot; {html.escape(r.carrier)} <b>{html.escape(r.tracking_number)}</b>"
            f" &middot; <b>{status}</b>{said}",
            f"Order {html.escape(r.order or '-')} for {html.escape(r.customer or '-')} (ref {html.escape(d.customer_po or '-')})"
            f" &middot; promised {day(r.promised) or '-'} &middot; {eta} &middot; {risk}",
            f"Last poll {local(r.polled_at) or 'never'} ({html.escape(r.poll_outcome or '-')}), {polled}, by "
            f"{html.escape(d.polled_by)}" + (f" &middot; {html.escape(d.poll_message)}" if d.poll_message else ""),
        ]
        if r.predicted is not None:
            lines.append(html.escape(prediction_tip(r)).replace("\n", " &middot; "))
        if r.flag:
            lines.append(f"<span style='color:#b00020'>⚑ {html.escape(r.flag)}</span>")
        self.header.setText("<br>".join(lines))
        self.timeline.clear()
        bold = QFont()
        bold.setBold(True)
        for e in d.timeline:
            item = QTreeWidgetItem([local(e.at, "%a %d %b %H:%M") or "?", e.status.replace("_", " "),
                                    e.description + (f" (new ETA {day(e.eta)})" if e.source == "eta" and e.eta else ""),
                                    e.location, NOTICE_WORDS.get(e.notice, "")])
            if e.newest:
                for c in range(5):
                    item.setFont(c, bold)
                item.setToolTip(1, "the shipment follows this event (the newest)")
            self.timeline.addTopLevelItem(item)
        if not d.timeline:
            why = d.poll_message or ("not asked yet" if not r.polled_at else "the carrier has reported nothing yet")
            self.timeline.addTopLevelItem(QTreeWidgetItem(["", "", f"No carrier events: {why}", "", ""]))
        if d.pod is not None:
            self.pod_state.setText("Proof of delivery from the carrier:")
            self.pod_signed.setText(d.pod.signed_by or "-")
            self.pod_at.setText(local(d.pod.at, "%a %d %b %Y %H:%M") or "-")
            self.pod_where.setText(d.pod.location or "-")
            self.pod_image.setText(d.pod.image or "(the carrier gave no image)")
        else:
            self.pod_state.setText("Delivered; the carrier has not sent its proof of delivery yet (asked again)."
                                   if r.status == "delivered" else "Not delivered yet.")
            for w in (self.pod_signed, self.pod_at, self.pod_where, self.pod_image):
                w.setText("")
        self.notices.clear()
        for notice in d.notices:
            stamp = dt.datetime.fromisoformat(str(notice["sent_at"] or notice["queued_at"]))
            when = local(stamp, "%a %d %b %H:%M")
            self.notices.addTopLevelItem(QTreeWidgetItem([notice["kind"], notice["to"], notice["status"], when]))
        for case in d.cases:
            self.notices.addTopLevelItem(QTreeWidgetItem([f"case: {case['title']}", case["role"], case["status"], ""]))
        self.tabs.setTabText(2, f"Notices and cases ({len(d.notices) + len(d.cases)})")
