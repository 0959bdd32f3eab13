"""The recruiters' side of the register: export, statistics, the browser view, the report,
the daily digest and retention. Everything here reads the register; only retention writes."""
