"""Errors the engine raises for inputs it cannot compute with. Nothing is returned when one is raised."""


class EngineError(ValueError):
    """Invalid input. `trade_id` (or `account`) names the offending row, `field` the offending value."""

    def __init__(self, message: str, *, trade_id: str | None = None, account: str | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.message = message
        self.trade_id = trade_id
        self.account = account
        self.field = field


class InvalidAccountError(EngineError):
    """An account row is unusable: unknown kind, duplicate id, empty taxpayer unit."""


class InvalidTradeError(EngineError):
    """A trade is malformed: unknown action, quantity not positive, negative price or fees, duplicate id."""


class UnknownAccountError(EngineError):
    """A trade names an account that is not in the accounts list."""


class OversellError(EngineError):
    """A sell relieves more shares than the account holds of that ticker (short sales are not supported)."""


class UnknownLotError(EngineError):
    """A sell's lot_id names no earlier buy of the same ticker in the same account."""
