"""Named failures of the printing layer.

Each error carries a stable ``code`` that the print queue stores on a failed job and the
supervisor screen translates.
"""


class PrinterError(Exception):
    """Base class; ``code`` is a stable machine name."""

    code = "printer_error"


class LabelDataError(PrinterError, ValueError):
    """The data given to a label builder cannot be encoded (bad check digit, bad characters)."""

    code = "label_data"


class CjkFontNotFound(PrinterError):
    """Raster mode needs a CJK TrueType font on the server and none was found."""

    code = "cjk_font_missing"


class UnknownTemplate(PrinterError, KeyError):
    code = "unknown_template"


class UnknownTransport(PrinterError, ValueError):
    """No transport is registered for the URL's scheme."""

    code = "unknown_transport"


class BadPrinterUrl(PrinterError, ValueError):
    """A printer URL no transport can use as written (no host, a port out of range, a path or
    query where none belongs, a CUPS queue name with spaces ...)."""

    code = "bad_url"


class OutsideSpool(BadPrinterUrl):
    """A ``file://`` printer URL whose folder is not inside the spool folder."""

    code = "outside_spool"


class PrinterOffline(PrinterError):
    """The printer could not be reached (connection refused, no route, reset)."""

    code = "offline"


class PrinterTimeout(PrinterError):
    """The printer accepted the connection but did not finish a send or did not answer."""

    code = "timeout"


class PrinterNoAnswer(PrinterTimeout):
    """A status query got no reply in time; a printer in error may stay silent."""

    code = "no_answer"


class PrinterRejected(PrinterError):
    """The spooler refused the job (for CUPS: lpr exited non-zero)."""

    code = "rejected"


class PrinterQueueMissing(PrinterRejected):
    """The named CUPS queue does not exist."""

    code = "queue_missing"


class PrinterUnavailable(PrinterError):
    """A tool the transport needs is not installed (e.g. ``lpr``)."""

    code = "unavailable"


class StatusUnsupported(PrinterError):
    """The transport is one-way and cannot ask the printer for its status."""

    code = "status_unsupported"
