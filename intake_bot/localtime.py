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
    # A zone with no city (UTC, Etc/GMT-2) is named by its offset: "08:00 (UTC)", "8 h 00 UTC"
    # (Etc/GMT-2 is two hours *ahead* of UTC: its own name would mislead).
    offset = None if "/" in zone.key and not zone.key.startswith("Etc/") else _offset(local)
    if language == "fr":
        day = "1er" if local.day == 1 else str(local.day)
        where = f" {offset}" if offset else f", heure de {city_name(zone, language)}"
        return f"{day} {month} {local.year} à {local.hour} h {local.minute:02d}{where}"
    where = f"({offset})" if offset else f"({city_name(zone, language)} time)"
    return f"{local.day} {month} {local.year} at {local.hour:02d}:{local.minute:02d} {where}"


def _offset(local: dt.datetime) -> str:
    """``UTC``, or ``UTC+02:00``: a zone without a city named by its offset."""
    offset = local.utcoffset() or dt.timedelta()
    if not offset:
        return "UTC"
    sign, minutes = ("+" if offset > dt.timedelta() else "-"), abs(offset) // dt.timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_utc(text: str) -> dt.datetime:
    """A register time (``2026-06-12T21:59:59Z``) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def local_text(moment: dt.datetime, zone: ZoneInfo) -> str:
    """``2026-06-12 23:59:59``: local time of ``zone``, as spreadsheets read a date and time."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def span_text(span: dt.timedelta) -> str:
    """A duration as people say it, to the most useful unit: ``3 days``, ``5 hours``, ``1 minute``."""
    seconds = abs(span.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= 2 * size or (unit == "minute" and seconds >= size):
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def time_left(closes_at: dt.datetime | None, now: dt.datetime) -> str:
    """A deadline seen from ``now``: ``open, 3 days left`` or ``closed 163 days ago``."""
    if closes_at is None:
        return "open, no deadline"
    if now < closes_at:
        return f"open, {span_text(closes_at - now)} left"
    return f"closed {span_text(now - closes_at)} ago"


class LocalTimes:
    """Register times (``2026-06-12T21:59:59Z``) as local times of one zone, for many rows.

    A zone conversion costs more than the rest of a row of an export. Within one UTC hour
    the offset is the same except at a clock change, and with a whole-hour offset only the
    hour changes: so each UTC hour is converted once, and its rows take the local hour with
    their own minutes and seconds. Hours that hold a clock change, and zones whose offset
    is not a whole number of hours, are converted row by row.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._hours: dict[str, str | None] = {}  # "2026-06-12T21" -> "2026-06-12 23"

    def text(self, text: str) -> str:
        """``2026-06-12 23:59:59``: how spreadsheets read a local date and time."""
        hour = text[:13]
        if hour not in self._hours:
            self._hours[hour] = self._local_hour(hour)
        local = self._hours[hour]
        if local is None:
            return local_text(parse_utc(text), self.zone)
        return local + text[13:19]

    def _local_hour(self, hour: str) -> str | None:
        start = dt.datetime.fromisoformat(f"{hour}:00:00+00:00")
        offsets = {(start + dt.timedelta(seconds=s)).astimezone(self.zone).utcoffset()
                   for s in (0, 3599)}
        [offset] = offsets if len(offsets) == 1 else [None]
        if offset is None or offset % dt.timedelta(hours=1):
            return None
        return (start + offset).strftime("%Y-%m-%d %H")


def utc_offsets(zone: ZoneInfo, start: dt.datetime,
                end: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta]]:
    """The zone's UTC offsets between two instants, as ``(since, offset)`` pairs.

    The first pair starts at ``start``; each next one at a clock change, found to the
    second (zones change their clocks at most once a day).
    """
    def offset(moment: dt.datetime) -> dt.timedelta:
        return moment.astimezone(zone).utcoffset() or dt.timedelta(0)

    periods = [(start, offset(start))]
    day = start
    while day < end:
        following = min(day + dt.timedelta(days=1), end)
        if offset(following) != periods[-1][1]:
            low, high = int(day.timestamp()), int(following.timestamp())
            while high - low > 1:  # the first second with the new offset
                middle = (low + high) // 2
                before = offset(dt.datetime.fromtimestamp(middle, dt.UTC)) == periods[-1][1]
                low, high = (middle, high) if before else (low, middle)
            change = dt.datetime.fromtimestamp(high, dt.UTC)
            periods.append((change, offset(change)))
        day = following
    return periods
