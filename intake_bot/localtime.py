"""Dates and times as a candidate reads them: in the vacancy's zone and the notice's language."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}
_FRENCH_CITIES = {
    "Brussels": "Bruxelles", "London": "Londres", "Lisbon": "Lisbonne", "Warsaw": "Varsovie",
    "Vienna": "Vienne", "Copenhagen": "Copenhague", "Athens": "Athènes", "Bucharest": "Bucarest",
    "Rome": "Rome", "Prague": "Prague", "Tallinn": "Tallinn", "Riga": "Riga", "Vilnius": "Vilnius",
    "Sofia": "Sofia", "Belgrade": "Belgrade", "Istanbul": "Istanbul", "Reykjavik": "Reykjavik",
    "New_York": "New York", "Helsinki": "Helsinki", "Stockholm": "Stockholm", "Oslo": "Oslo",
}


def city_name(zone: ZoneInfo, language: str) -> str:
    """The zone's city as people say it: ``Europe/Brussels`` is Brussels, or Bruxelles."""
    city = str(zone.key).rsplit("/", 1)[-1]
    if language == "fr":
        return _FRENCH_CITIES.get(city, city.replace("_", " "))
    return city.replace("_", " ")


def format_moment(moment: dt.datetime, zone: ZoneInfo, language: str) -> str:
    """``12 June 2026 at 23:59 (Brussels time)`` / ``12 juin 2026 à 23 h 59, heure de Bruxelles``."""
    local = moment.astimezone(zone) if moment.tzinfo else moment
    month = _MONTHS.get(language, _MONTHS["en"])[local.month - 1]
    city = city_name(zone, language)
    if language == "fr":
        day = "1er" if local.day == 1 else str(local.day)
        return f"{day} {month} {local.year} à {local.hour} h {local.minute:02d}, heure de {city}"
    return f"{local.day} {month} {local.year} at {local.hour:02d}:{local.minute:02d} ({city} time)"
