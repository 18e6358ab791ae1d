"""The alert log: Kismet's `.kismet` SQLite layout, written with group commit."""

from kisalert.alertlog.log import LOG_NAME, AlertLog, LogError

__all__ = ["LOG_NAME", "AlertLog", "LogError"]
