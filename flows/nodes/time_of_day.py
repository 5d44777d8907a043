import re
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from . import register
from .base import Config, Node, NodeType
from .common import obj
from .runtime import Next, Result, Run

HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
INTERVAL = {
    "type": "array",
    "prefixItems": [{"type": "string"}, {"type": "string"}],
    "minItems": 2,
    "maxItems": 2,
}
DATE = {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
DATETIME = {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2})?)?$"}


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


@register
class TimeOfDay(NodeType):
    """Branch on opening hours in a time zone: `open`, `closed` or `holiday`.

    `schedule` lists opening intervals per weekday ("HH:MM", end after start; "24:00" is
    the end of the day). `holidays` are dates (or {date, name}); `country` adds that
    country's public holidays. `closures` are closed periods {from, to}, dates or date-times.
    An unconnected `holiday` exit falls back to `closed`.

    Example::

        {"id": "hours", "type": "time_of_day",
         "config": {"timezone": "Europe/London",
                    "schedule": {"mon": [["09:00", "17:30"]], "tue": [["09:00", "17:30"]],
                                 "sat": [["10:00", "13:00"]]},
                    "holidays": ["2026-12-25", {"date": "2026-12-26", "name": "Boxing Day"}],
                    "closures": [{"from": "2026-08-03", "to": "2026-08-07"}]},
         "exits": {"open": "menu", "closed": "closed_msg", "holiday": null}}
    """

    type = "time_of_day"
    title = "Opening hours"
    color = "#b7791f"
    icon = "Hr"
    summary = ("{#schedule} days · {timezone|flow time zone}",)
    description = "Branch on time of day, holidays and closures."
    fixed_exits = ("open", "closed", "holiday")
    optional_exits = ("holiday",)
    #: an unconnected exit taken as another one
    exit_defaults = {"holiday": "closed"}
    config_schema = obj(
        {
            "timezone": {"type": "string", "minLength": 1},
            "schedule": obj(
                {day: {"type": "array", "items": INTERVAL, "maxItems": 12} for day in DAYS}
            ),
            "holidays": {
                "type": "array",
                "maxItems": 500,
                "items": {
                    "oneOf": [
                        DATE,
                        obj({"date": DATE, "name": {"type": "string"}}, required=("date",)),
                    ]
                },
            },
            "country": {
                "type": "string",
                "pattern": "^[A-Z]{2}$",
                "description": "ISO country code for public holidays",
            },
            "subdivision": {"type": "string"},
            "closures": {
                "type": "array",
                "maxItems": 500,
                "items": obj(
                    {"from": DATETIME, "to": DATETIME, "name": {"type": "string"}},
                    required=("from", "to"),
                ),
            },
        },
        required=("schedule",),
    )

    @classmethod
    def check(cls, config: Config) -> list[tuple[str, str]]:
        problems = []
        tz = config.get("timezone")
        if tz is not None and not valid_timezone(tz):
            problems.append(
                (
                    "timezone",
                    f"{tz!r} is not a known time zone (use an IANA name such as Europe/London)",
                )
            )
        for day, intervals in (config.get("schedule") or {}).items():
            for i, interval in enumerate(intervals):
                start, end = interval[0], interval[1]
                path = f"schedule.{day}[{i}]"
                if not (isinstance(start, str) and HHMM.match(start)) or not (
                    isinstance(end, str) and HHMM.match(end)
                ):
                    problems.append((path, f"{interval!r} is not a pair of times HH:MM"))
                elif end <= start:
                    problems.append((path, f"closing time {end} is not after opening time {start}"))
        for i, holiday in enumerate(config.get("holidays") or []):
            value = holiday["date"] if isinstance(holiday, dict) else holiday
            if not _is_date(value):
                problems.append((f"holidays[{i}]", f"{value!r} is not a date"))
        for i, closure in enumerate(config.get("closures") or []):
            if not (_is_date(closure["from"]) and _is_date(closure["to"])):
                problems.append((f"closures[{i}]", "from/to must be dates or date-times"))
            elif closure["to"] < closure["from"]:
                problems.append((f"closures[{i}]", "the closure ends before it starts"))
        if config.get("country"):
            import holidays as holidays_lib

            if config["country"] not in holidays_lib.list_supported_countries():
                problems.append(
                    ("country", f"no public holidays are known for {config['country']!r}")
                )
        return problems

    # --- runtime ---------------------------------------------------------------------------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        config = node["config"]
        local = run.now.astimezone(zoneinfo.ZoneInfo(config.get("timezone") or run.flow.timezone))
        return Next(opening_state(config, local), input=local.strftime("%a %Y-%m-%d %H:%M"))


def opening_state(config: Config, local: datetime) -> str:
    """`open`, `closed` or `holiday` at local time `local` (aware, in the node's zone)."""
    naive = local.replace(tzinfo=None)
    for closure in config.get("closures") or []:
        if _moment(closure["from"], end=False) <= naive < _moment(closure["to"], end=True):
            return "closed"
    today = local.date()
    for holiday in config.get("holidays") or []:
        if (holiday["date"] if isinstance(holiday, dict) else holiday) == today.isoformat():
            return "holiday"
    if config.get("country") and today in _public_holidays(
        config["country"], config.get("subdivision"), today.year
    ):
        return "holiday"
    now = local.strftime("%H:%M")
    for start, end in (config.get("schedule") or {}).get(DAYS[local.weekday()], []):
        if start <= now < end:
            return "open"
    return "closed"


def _moment(value: str, *, end: bool) -> datetime:
    """A closure bound: a date-time, or a date (a `to` date includes that whole day)."""
    if len(value) <= 10:
        day = datetime.combine(date.fromisoformat(value), time())
        return day + timedelta(days=1) if end else day
    return datetime.fromisoformat(value.replace(" ", "T"))


@lru_cache(maxsize=64)
def _public_holidays(country: str, subdivision: str | None, year: int) -> Mapping[date, str]:
    import holidays as holidays_lib

    return holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)


def valid_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
