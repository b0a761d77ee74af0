"""Export ledgers (台账) as Excel workbooks and CSV files for the community office."""

from bot.exporting.ledger import Ledger, Percent, write_csv, write_xlsx

__all__ = ["Ledger", "Percent", "write_csv", "write_xlsx"]
