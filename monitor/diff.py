"""Old blocks vs new blocks: what was added, removed or modified, ignoring order and layout.

Blocks are compared as a multiset of keys, so re-sorted tables and lists are no change. Text that a redesign
merely re-chunks (a table turned into a list, a paragraph split in two) is no change either: a block whose words
still stand, in order, in the other version's running text was moved, not added or removed. An added and a
removed block that are near-identical and share their context are paired as one modification, so an effective
date that moves reads as "amended", not as unrelated text.

A block that left the page a few checks ago and comes back is not news either: mirrors out of sync behind a load
balancer make rows flap, and each return read as a new "passed the Senate". The snapshot remembers the blocks that
vanished (`remember_vanished`) for `suspect_passes` checks; one that returns within them is `returned`, not added.
"""
from __future__ import annotations

import difflib
from collections import Counter, deque
from dataclasses import replace
from typing import Sequence

from .extract.text import block_key
from .models import Block, Diff, Page, Vanished
from .phrases import Phrases

PAIR_RATIO = 0.6
RENAMED_CONTEXT_RATIO = 0.8  # a block whose heading was re-worded too must be nearly identical to pair
MAX_PAIRING = 200  # beyond this many candidates, pairing is quadratic for little value
MAX_WINDOW_ITEMS = 2000  # a windowed source's snapshot keeps at most this many items, the listed ones first
# Up to this many blocks to look for, C's substring search of the other version's running text, once for each,
# beats reading it word by word once for all (phrases.py): most checks change a row or two.
FEW_PHRASES = 32


def diff_blocks(old: Sequence[Block], new: Sequence[Block], returning: Counter | None = None) -> Diff:
    """`returning`: the keys of page blocks that vanished within the last few checks (`recently_vanished`), each as
    often as it vanished. Structured items are told apart by their ids and take no notice of it."""
    if _keyed(old) or _keyed(new):
        return _diff_items(old, new)
    old_counts, new_counts = Counter(b.key for b in old), Counter(b.key for b in new)
    added = _surplus(new, old_counts)
    returned = _surplus(added, returning, keep=True) if returning else []
    added = _surplus(added, returning) if returning else added
    removed = _surplus(old, new_counts)
    if not added and not removed:
        return Diff(returned=tuple(returned))
    # A block whose key the other version does not have may still stand in its running text, re-chunked.
    in_old = _standing({b.key for b in added if not old_counts[b.key]}, old)
    in_new = _standing({b.key for b in removed if not new_counts[b.key]}, new)
    added = [b for b in added if old_counts[b.key] or b.key not in in_old]
    still_there = [b for b in removed if not new_counts[b.key] and b.key in in_new]
    removed = [b for b in removed if new_counts[b.key] or b.key not in in_new]
    extended, added = _extensions(still_there, added)
    pairs, added, removed = _pair(added, removed)
    return Diff(added=tuple(added), removed=tuple(removed), modified=tuple(extended + pairs),
                returned=tuple(returned))


def recently_vanished(vanished: Sequence[Vanished], check: int, window: int) -> Counter:
    """The keys of the blocks that left the page within `window` checks of the source's `check`-th good check: one
    that is back in it returns, it is not added."""
    return Counter(v.block.key for v in vanished if check - v.since <= window)


def remember_vanished(vanished: Sequence[Vanished], diff: Diff, check: int, window: int) -> tuple[Vanished, ...]:
    """What the snapshot of the `check`-th good check remembers: the blocks that left the page now (removed, or the
    old side of a modification) and those that left before and may still return within `window` checks, minus
    those that did. Structured items are not remembered (they have ids of their own). At most `window` checks'
    worth of blocks are kept, so this grows with the page, never with the source's age."""
    back = Counter(b.key for b in diff.returned)
    kept = []
    for v in vanished:
        if check - v.since > window:
            continue  # forgotten before this check: it could not return in it
        if back[v.block.key] > 0:
            back[v.block.key] -= 1  # it came back
        elif check - v.since < window:  # else a return at the next check would come too late
            kept.append(v)
    gone = [*diff.removed, *(old for old, _ in diff.modified)]
    return tuple(kept + [Vanished(b, check) for b in gone if "id" not in b.fields]) if window > 0 else ()


def _keyed(blocks: Sequence[Block]) -> bool:
    """Structured sources give their blocks an identity of their own (an item id), marked by fields."""
    return bool(blocks) and "id" in blocks[0].fields


def _diff_items(old: Sequence[Block], new: Sequence[Block]) -> Diff:
    old_by_id = {b.key: b for b in old}
    new_by_id = {b.key: b for b in new}
    added = tuple(b for k, b in new_by_id.items() if k not in old_by_id)
    removed = tuple(b for k, b in old_by_id.items() if k not in new_by_id)
    # A feed that migrates its ids (tag: URIs to URLs, tracking parameters) re-publishes the same items.
    gone = Counter(block_key(b.text) for b in removed)
    came = Counter(block_key(b.text) for b in added)
    added = tuple(_surplus(added, gone, key=lambda b: block_key(b.text)))
    removed = tuple(_surplus(removed, came, key=lambda b: block_key(b.text)))
    modified = tuple((old_by_id[k], b) for k, b in new_by_id.items()
                     if k in old_by_id and _item_signature(old_by_id[k]) != _item_signature(b))
    return Diff(added=added, removed=removed, modified=modified)


def _item_signature(block: Block) -> tuple:
    """What makes an item changed: its text and its status fields, not volatile ones (fetched-at, ranks)."""
    return (block.text, tuple(sorted((k, str(v)) for k, v in block.fields.items() if not k.startswith("_"))))


def _surplus(blocks: Sequence[Block], other_counts: Counter, key=lambda b: b.key, keep: bool = False) -> list[Block]:
    """The blocks beyond the other side's count of their key (with `keep`, those within it instead)."""
    remaining = Counter(other_counts)
    out, within = [], []
    for b in blocks:
        if remaining[key(b)] > 0:
            remaining[key(b)] -= 1
            within.append(b)
        else:
            out.append(b)
    return within if keep else out


def _standing(keys: set[str], blocks: Sequence[Block]) -> set[str]:
    """The keys that stand, whole words in order, in the running text of `blocks`."""
    if len(keys) <= FEW_PHRASES:
        running = " " + " ".join(b.key for b in blocks) + " "
        return {key for key in keys if key and f" {key} " in running}
    return Phrases(keys).found_in(b.key for b in blocks)


def _extensions(still_there: list[Block], added: list[Block]) -> tuple[list[tuple[Block, Block]], list[Block]]:
    """An old block whose words now stand inside a new, longer block was extended ("... or Kratom" -> "... or
    Kratom, or 7-Hydroxymitragynine"): a modification of that block, not new text beside it. Each new block takes
    the first old block still free, in their order, whose words it holds."""
    if not still_there or not added:
        return [], list(added)
    if len(still_there) * len(added) <= FEW_PHRASES * FEW_PHRASES:  # few enough to try each with each
        pairs, left, free = [], [], list(still_there)
        for new in added:
            match = next((old for old in free if f" {old.key} " in f" {new.key} "), None)
            if match is None:
                left.append(new)
            else:
                free.remove(match)
                pairs.append((match, new))
        return pairs, left
    free: dict[str, deque[int]] = {}  # key -> the places in still_there of the free old blocks with that key
    for place, old in enumerate(still_there):
        free.setdefault(old.key, deque()).append(place)
    search = Phrases(free)
    pairs, left = [], []
    for new in added:
        places = [free[key][0] for key in set(search.in_text(new.key)) if free[key]]
        if not places:
            left.append(new)
        else:
            place = min(places)
            free[still_there[place].key].popleft()
            pairs.append((still_there[place], new))
    return pairs, left


def _pair(added: list[Block], removed: list[Block]) -> tuple[list[tuple[Block, Block]], list[Block], list[Block]]:
    if not added or not removed or len(added) * len(removed) > MAX_PAIRING * MAX_PAIRING:
        return [], added, removed
    pairs: list[tuple[Block, Block]] = []
    free = list(removed)
    left: list[Block] = []
    for new in added:
        best, best_ratio = None, PAIR_RATIO
        for old in free:
            if old.tag != new.tag:
                continue
            floor = best_ratio if old.context[:1] == new.context[:1] else max(best_ratio, RENAMED_CONTEXT_RATIO)
            matcher = difflib.SequenceMatcher(None, old.key.split(), new.key.split(), autojunk=False)
            if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
                continue
            ratio = matcher.ratio()
            if ratio >= floor:
                best, best_ratio = old, ratio
        if best is None:
            left.append(new)
        else:
            free.remove(best)
            pairs.append((best, new))
    return pairs, left, free


def carry_over(old: Sequence[Block], page: Page) -> Page:
    """Put back the items a windowed response no longer lists because they left its window, not the list.

    A search's first page or a feed's latest items is a window on a longer list: a document pushed off page 1 is
    not repealed, and an empty search is not the removal of everything. Such items stay in the snapshot, so one
    that comes back is not new. In a feed, an item missing from among newer ones still listed was withdrawn: it
    is left out, and diff reports it removed.
    """
    if page.window is None or not old:
        return page
    listed = {b.key for b in page.blocks}
    missing = [b for b in old if b.key not in listed]
    if page.window == "latest":
        missing = _aged_out(old, page.blocks, listed, missing)
    room = max(0, MAX_WINDOW_ITEMS - len(page.blocks))
    return replace(page, blocks=page.blocks + tuple(missing[:room]))


def _aged_out(old: Sequence[Block], new: Sequence[Block], listed: set[str], missing: list[Block]) -> list[Block]:
    """Missing feed items older than every item still listed: by date when the feed dates its items (fields
    "_published", ISO 8601 UTC), else by place in the previous list (feeds list the newest first)."""
    oldest = min((b.fields["_published"] for b in new if b.fields.get("_published")), default=None)
    if oldest and all(b.fields.get("_published") for b in missing):
        return [b for b in missing if b.fields["_published"] <= oldest]
    last = max((i for i, b in enumerate(old) if b.key in listed), default=-1)
    return list(old[last + 1:])
