"""Limits a worker process puts on itself before it reads a candidate's bytes."""

from __future__ import annotations

import resource


def limit_resources(memory_limit: int) -> None:
    """Cap this process's address space at ``memory_limit`` bytes and forbid core dumps.

    A hostile input that makes a parser balloon then fails with MemoryError in the worker
    instead of growing the host's memory; a crash must not write a core holding a CV.
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
