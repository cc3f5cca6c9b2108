"""A layout that wraps its widgets onto more rows when it is narrow (a panel's options: check boxes,
buttons), so a row of options never sets a panel's — and the window's — minimum width."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class FlowLayout(QtWidgets.QLayout):
    def __init__(self, parent=None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)

    # -- the QLayout protocol -------------------------------------------------------------------------
    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, i: int):
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i: int):
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def insertWidget(self, i: int, w: QtWidgets.QWidget) -> None:
        self.addChildWidget(w)
        self._items.insert(max(0, min(i, len(self._items))), QtWidgets.QWidgetItem(w))
        self.invalidate()

    def expandingDirections(self):
        return QtCore.Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QtCore.QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self):
        """All in one row."""
        w = h = 0
        for it in self._shown():
            s = it.sizeHint()
            w += s.width() + (self.spacing() if w else 0)
            h = max(h, s.height())
        m = self.contentsMargins()
        return QtCore.QSize(w + m.left() + m.right(), h + m.top() + m.bottom())

    def minimumSize(self):
        """The widest single item: everything else wraps."""
        size = QtCore.QSize()
        for it in self._shown():
            size = size.expandedTo(it.minimumSize())
        m = self.contentsMargins()
        return size + QtCore.QSize(m.left() + m.right(), m.top() + m.bottom())

    # -- placing --------------------------------------------------------------------------------------
    def _shown(self):
        return [it for it in self._items if not (it.widget() is not None and it.widget().isHidden())]

    def _arrange(self, rect, apply: bool) -> int:
        m = self.contentsMargins()
        r = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_h, sp = r.x(), r.y(), 0, self.spacing()
        for it in self._shown():
            s = it.sizeHint()
            if x > r.x() and x + s.width() > r.right() + 1:
                x, y, row_h = r.x(), y + row_h + sp // 2, 0
            if apply:
                it.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), s.boundedTo(QtCore.QSize(r.width(), s.height()))))
            x += s.width() + sp
            row_h = max(row_h, s.height())
        return y + row_h - rect.y() + m.bottom()
