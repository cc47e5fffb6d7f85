"""A table model over paged queries that run on the op runner, never on the GUI thread.

The model holds only the pages fetched so far. ``set_query`` starts a new generation: the
first page is fetched in the background and replaces the rows when it arrives; results of
an older generation (the user kept typing) are discarded. ``canFetchMore``/``fetchMore``
ask for the next page when the view scrolls near the end (Anki's browser table; Tryton's
lazy record list). ``reload`` re-fetches as many rows as are loaded (after data_changed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from sqlalchemy.orm import Session

from app.views.ops import OpRunner

Index = QModelIndex | QPersistentModelIndex
#: fetch(session, query, after, limit) -> (rows, next_after or None when no more)
Fetch = Callable[[Session, Any, Any, int], tuple[list[Any], Any]]


@dataclass(frozen=True)
class Column:
    """How to show one column: the attribute (or dict key) to read, or ``get`` to compute it.

    ``editable(row)`` says whether the cell may be typed into (``RowsModel`` hands what is typed to
    its ``on_edit``); ``tooltip(row)`` is shown on hover."""

    title: str
    attr: str = ""
    align_right: bool = False
    fmt: Callable[[Any], str] | None = None
    get: Callable[[Any], Any] | None = None
    editable: Callable[[Any], bool] | None = None
    tooltip: Callable[[Any], str] | None = None

    def value(self, row: Any) -> Any:
        if self.get is not None:
            return self.get(row)
        return row.get(self.attr) if isinstance(row, dict) else getattr(row, self.attr)

    def text(self, row: Any) -> str:
        v = self.value(row)
        return self.fmt(v) if self.fmt else ("" if v is None else str(v))


class PagedTableModel(QAbstractTableModel):
    """Signals:
    loading_changed(bool): a page fetch started / finished.
    page_loaded(int): rows now loaded, after each page (tests and the count label wait on it).
    load_failed(str): the fetch raised; the text is shown by the screen.
    """

    loading_changed = Signal(bool)
    page_loaded = Signal(int)
    load_failed = Signal(str)

    def __init__(self, runner: OpRunner, fetch: Fetch, columns: Sequence[Column], *,
                 page_size: int = 200, parent: Any = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._fetch = fetch
        self.columns = tuple(columns)
        self.page_size = page_size
        self._rows: list[Any] = []
        self._query: Any = None
        self._next: Any = None
        self._more = False
        self._generation = 0
        self._loading = False
        self._pages = 0
        self.max_reload_pages = 10

    # Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(self.columns):
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(self._rows[index.row()])
        if role == Qt.ItemDataRole.EditRole:
            return col.value(self._rows[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole and col.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.columns):
            return self.columns[section].title
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and self._more and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: N802, B008
        if self.canFetchMore(parent):
            self._start(self._query, self._next, append=True, limit=self.page_size, pages=1)

    # our interface --------------------------------------------------------------------
    @property
    def query(self) -> Any:
        return self._query

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def has_more(self) -> bool:
        return self._more

    def row(self, r: int) -> Any:
        return self._rows[r]

    def rows(self) -> list[Any]:
        return list(self._rows)

    def set_query(self, query: Any) -> None:
        """Show the first page for ``query``; any older fetch still running is discarded."""
        self._query = query
        self._start(query, None, append=False, limit=self.page_size, pages=1)

    def reload(self) -> None:
        """Re-fetch from the top, as many rows as the user had loaded (data changed)."""
        pages = min(max(1, self._pages), self.max_reload_pages)
        self._start(self._query, None, append=False, limit=self.page_size * pages, pages=pages)

    def _start(self, query: Any, after: Any, *, append: bool, limit: int, pages: int) -> None:
        self._generation += 1
        gen = self._generation
        fetch = self._fetch
        self._set_loading(True)
        self._runner.submit(
            lambda s: fetch(s, query, after, limit),
            lambda result: self._on_page(gen, append, pages, result),
            on_error=lambda e: self._on_error(gen, e),
            write=False, label="load list",
        )

    def _on_page(self, gen: int, append: bool, pages: int, result: tuple[list[Any], Any]) -> None:
        if gen != self._generation:
            return  # stale: a newer query was started meanwhile
        rows, next_after = result
        if append:
            if rows:
                first = len(self._rows)
                self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
        else:
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()
        self._pages = self._pages + 1 if append else pages
        self._next = next_after
        self._more = next_after is not None
        self._set_loading(False)
        self.page_loaded.emit(len(self._rows))

    def _on_error(self, gen: int, e: BaseException) -> None:
        if gen != self._generation:
            return
        self._set_loading(False)
        self.load_failed.emit(str(e))

    def _set_loading(self, on: bool) -> None:
        if on != self._loading:
            self._loading = on
            self.loading_changed.emit(on)
