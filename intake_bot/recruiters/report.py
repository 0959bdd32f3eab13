"""A one-page picture of a vacancy: arrivals per day against the deadline, outcomes by reason.

Drawn with matplotlib (an optional extra, ``pip install 'intake-bot[report]'``) through its
object interface and the Agg canvas, so it needs no display and changes no global state.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from intake_bot.config import Config
from intake_bot.recruiters.errors import require
from intake_bot.recruiters.filters import check_vacancy
from intake_bot.recruiters.stats import VacancyStats, plural, register_stats
from intake_bot.register import Register

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Status colours, colour-blind safe (Okabe–Ito), in stacking order.
STATUS_COLOURS = {
    "accepted": "#009E73",
    "superseded": "#56B4E9",
    "rejected": "#D55E00",
}
OTHER_COLOUR = "#999999"
FLAG_COLOUR = "#E69F00"
DEADLINE_COLOUR = "#CC79A7"
#: A deadline this close to the arrivals is drawn on the chart; a farther one is only named.
NEAR = dt.timedelta(days=14)
HALF_DAY = dt.timedelta(hours=12)
MIN_BAR_SLOTS = 4


def write_report(config: Config, register: Register, vacancy_id: str, output: Path,
                 now: dt.datetime) -> Path:
    """Draw the vacancy's report as a PNG file at ``output``; returns the path."""
    require("matplotlib", "report", "intake-bot report")
    from matplotlib.figure import Figure

    check_vacancy(config, register, vacancy_id)
    [stats] = register_stats(config, register, now, vacancy_id=vacancy_id)
    figure = Figure(figsize=(10, 8), dpi=110, layout="constrained")
    arrivals, outcomes = figure.subplots(2, 1, height_ratios=[3, 2])
    figure.suptitle(f"{stats.vacancy_id}: {stats.title}", fontsize=14, fontweight="bold")
    _draw_arrivals(arrivals, stats, now)
    _draw_outcomes(outcomes, stats)
    figure.text(0.99, 0.002, f"intake-bot, {now.astimezone(stats.zone):%Y-%m-%d %H:%M} "
                f"{stats.zone.key}", ha="right", va="bottom", fontsize=8, color="#666666")
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, format="png")
    return output


def _draw_arrivals(axes: Axes, stats: VacancyStats, now: dt.datetime) -> None:
    """Submissions per local day, stacked by status, with the deadline as a line."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.ticker import MaxNLocator

    days = sorted(stats.arrivals)
    # Bars sit at noon, so that a day's bar stands wholly on its side of a midnight deadline.
    noons = [dt.datetime.combine(day, dt.time(12)) for day in days]
    statuses = [*STATUS_COLOURS, *sorted({s for c in stats.arrivals.values() for s in c}
                                         - set(STATUS_COLOURS))]
    bottom = [0] * len(days)
    for status in statuses:
        heights = [stats.arrivals[day].get(status, 0) for day in days]
        if any(heights):
            axes.bar(date2num(noons), heights, bottom=bottom, width=0.8, label=status,
                     color=STATUS_COLOURS.get(status, OTHER_COLOUR))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    here = now.astimezone(stats.zone).replace(tzinfo=None)
    start = (noons[0] if noons else here) - dt.timedelta(days=1)
    end = (noons[-1] if noons else here) + dt.timedelta(days=1)
    if stats.closes_at is not None:
        deadline = stats.closes_at.astimezone(stats.zone).replace(tzinfo=None)
        if start - NEAR <= deadline <= end + NEAR:
            start, end = min(start, deadline - HALF_DAY), max(end, deadline + HALF_DAY)
            axes.axvline(float(date2num(deadline)), color=DEADLINE_COLOUR, linestyle="--", linewidth=2,
                         label=f"deadline: {stats.deadline}")
        else:  # far away: named in the legend rather than squashing the bars
            axes.plot([], [], color=DEADLINE_COLOUR, linestyle="--", linewidth=2,
                      label=f"deadline: {stats.deadline} (off the chart)")
    if not days:
        axes.text(0.5, 0.5, "no submissions yet", transform=axes.transAxes,
                  ha="center", va="center", fontsize=12, color="#666666")
    axes.set_xlim(float(date2num(start)), float(date2num(end)))
    if (end - start).days <= 21:  # a tick per day, under the middle of its bar
        ticks = [dt.datetime.combine(start.date() + dt.timedelta(days=n), dt.time(12))
                 for n in range((end - start).days + 2)]
        shown = [tick for tick in ticks if start <= tick <= end]
        axes.set_xticks(date2num(shown), [f"{tick:%d %b}" for tick in shown])
    else:
        locator = AutoDateLocator(maxticks=10)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylim(0, max(bottom, default=0) * 1.5 + 1)  # headroom for the legend
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Arrivals per day ({stats.zone.key}): {plural(stats.total, 'submission')} "
                   f"from {plural(stats.candidates, 'candidate')}; {stats.time_left}",
                   loc="left")
    axes.set_ylabel("submissions")
    axes.legend(loc="upper left", frameon=False)
    axes.grid(axis="y", alpha=0.3)


def _draw_outcomes(axes: Axes, stats: VacancyStats) -> None:
    """One bar per outcome: each status but rejected, each rejection reason, each flag."""
    from matplotlib.ticker import MaxNLocator

    bars = [(status, count, STATUS_COLOURS.get(status, OTHER_COLOUR))
            for status, count in sorted(stats.statuses.items()) if status != "rejected"]
    bars += [(f"rejected: {reason}", count, STATUS_COLOURS["rejected"])
             for reason, count in stats.reasons.most_common()]
    bars += [(f"flag: {flag}", count, FLAG_COLOUR) for flag, count in stats.flags.most_common()]
    labels = [label for label, _, _ in bars]
    counts = [count for _, count, _ in bars]
    positions = range(len(bars))
    axes.barh(positions, counts, height=0.6, color=[colour for _, _, colour in bars])
    axes.set_yticks(positions, labels)
    axes.set_ylim(max(len(bars), MIN_BAR_SLOTS) - 0.5, -0.5)  # top down; a lone bar stays slim
    for position, count in zip(positions, counts, strict=True):
        axes.annotate(str(count), (count, position), xytext=(4, 0),
                      textcoords="offset points", va="center")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Outcomes by reason (a rejection may have several reasons; flags do not "
                   "reject)", loc="left")
    axes.set_xlabel("submissions")
    axes.margins(x=0.1)
    axes.grid(axis="x", alpha=0.3)
