"""Old blocks vs new blocks: what was added, removed or modified, ignoring order and layout.

Blocks are compared as a multiset of keys, so re-sorted tables and lists are no change. Text that a redesign
merely re-chunks (a table turned into a list, a paragraph split in two) is no change either: a block whose words
still stand, in order, in the other version's running text was moved, not added or removed. An added and a
removed block that are near-identical and share their context are paired as one modification, so an effective
date that moves reads as "amended", not as unrelated text.
"""
from __future__ import annotations

import difflib
from collections import Counter
from typing import Sequence

from .models import Block, Diff

PAIR_RATIO = 0.6
MAX_PAIRING = 200  # beyond this many candidates, pairing is quadratic for little value


def diff_blocks(old: Sequence[Block], new: Sequence[Block]) -> Diff:
    if _keyed(old) or _keyed(new):
        return _diff_items(old, new)
    old_counts, new_counts = Counter(b.key for b in old), Counter(b.key for b in new)
    added = _surplus(new, old_counts)
    removed = _surplus(old, new_counts)
    if not added and not removed:
        return Diff()
    old_stream, new_stream = _stream(old), _stream(new)
    added = [b for b in added if old_counts[b.key] or not _contained(b.key, old_stream)]
    removed = [b for b in removed if new_counts[b.key] or not _contained(b.key, new_stream)]
    pairs, added, removed = _pair(added, removed)
    return Diff(added=tuple(added), removed=tuple(removed), modified=tuple(pairs))


def _keyed(blocks: Sequence[Block]) -> bool:
    """Structured sources give their blocks an identity of their own (an item id), marked by fields."""
    return bool(blocks) and "id" in blocks[0].fields


def _diff_items(old: Sequence[Block], new: Sequence[Block]) -> Diff:
    old_by_id = {b.key: b for b in old}
    new_by_id = {b.key: b for b in new}
    added = tuple(b for k, b in new_by_id.items() if k not in old_by_id)
    removed = tuple(b for k, b in old_by_id.items() if k not in new_by_id)
    modified = tuple((old_by_id[k], b) for k, b in new_by_id.items()
                     if k in old_by_id and _item_signature(old_by_id[k]) != _item_signature(b))
    return Diff(added=added, removed=removed, modified=modified)


def _item_signature(block: Block) -> tuple:
    """What makes an item changed: its text and its status fields, not volatile ones (fetched-at, ranks)."""
    return (block.text, tuple(sorted((k, str(v)) for k, v in block.fields.items() if not k.startswith("_"))))


def _surplus(blocks: Sequence[Block], other_counts: Counter) -> list[Block]:
    remaining = Counter(other_counts)
    out = []
    for b in blocks:
        if remaining[b.key] > 0:
            remaining[b.key] -= 1
        else:
            out.append(b)
    return out


def _stream(blocks: Sequence[Block]) -> str:
    return " " + " ".join(b.key for b in blocks) + " "


def _contained(key: str, stream: str) -> bool:
    return f" {key} " in stream


def _pair(added: list[Block], removed: list[Block]) -> tuple[list[tuple[Block, Block]], list[Block], list[Block]]:
    if not added or not removed or len(added) * len(removed) > MAX_PAIRING * MAX_PAIRING:
        return [], added, removed
    pairs: list[tuple[Block, Block]] = []
    free = list(removed)
    left: list[Block] = []
    for new in added:
        best, best_ratio = None, PAIR_RATIO
        for old in free:
            if old.tag != new.tag or old.context[:1] != new.context[:1]:
                continue
            matcher = difflib.SequenceMatcher(None, old.key.split(), new.key.split(), autojunk=False)
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio >= best_ratio:
                best, best_ratio = old, ratio
        if best is None:
            left.append(new)
        else:
            free.remove(best)
            pairs.append((best, new))
    return pairs, left, free
