"""Which of many phrases (block keys: words joined by single spaces) stand, whole words in order, in a text.

diff.py asks this of every changed block: is its text still there, re-chunked, in the other version of the page?
Asked one block at a time, as a substring search of the other version's running text, it cost the changed blocks
times the page (every row of a 100,000-row page changed: 348 s). This is Aho-Corasick over words: the phrases are
built into one automaton, and a text is read once, whatever the number of phrases, so a diff costs the words of
both versions plus what is found.

The automaton is kept in flat arrays: about 65 bytes a word of the phrases at its peak, while it is built (52 MB
for the 100,000 changed rows), where a dict per trie node took 300 (235 MB). State s > 0 is the one reached by
reading the s-th word of the (distinct) phrases in the order given; most states have one way on, their phrase's
next word, which costs no dict entry.
"""
from __future__ import annotations

from array import array
from itertools import chain
from typing import Iterable, Iterator


class Phrases:
    """An automaton of phrases. A phrase with no words is never found."""

    def __init__(self, phrases: Iterable[str]):
        self._words: list[str] = []  # every word of every (distinct) phrase, in order
        self._root: dict[str, int] = {}  # word -> the state one word deep
        self._branch: dict[tuple[int, str], int] = {}  # other ways on than a phrase's own next word
        self._chained = bytearray(1)  # state s goes on to s + 1 by the word self._words[s]
        self._ends: dict[int, str] = {}  # state -> the phrase that ends there
        parent, depth = array("i", [0]), array("i", [0])
        same: dict[str, str] = {}  # one string for each word however often it comes: most repeat
        for phrase in dict.fromkeys(phrases):
            words = phrase.split()
            words = list(map(same.setdefault, words, words))
            base, n = len(self._words), len(words)
            self._words.extend(words)
            self._chained.extend(bytes(n))
            parent.extend(array("i", [-1]) * n)  # -1: no state (the word was read along an existing state)
            depth.extend(bytes(n))
            state, at = 0, 0
            while at < n:  # along the states earlier phrases made
                following = self._goto(state, words[at])
                if following is None:
                    break
                state, at = following, at + 1
            if at < n:  # the rest of the phrase is a chain of new states, first ... last
                first, last = base + at + 1, base + n
                if state:
                    self._branch[(state, words[at])] = first
                else:
                    self._root[words[at]] = first
                self._chained[first:last] = b"\x01" * (last - first)
                parent[first:last + 1] = array("i", [state]) + array("i", range(first, last))
                depth[first:last + 1] = array("i", range(depth[state] + 1, depth[state] + 2 + last - first))
                state = last
            if state:
                self._ends[state] = phrase
        self._fail = array("i", bytes(4 * len(parent)))  # the longest proper suffix that is a state
        self._link = array("i", bytes(4 * len(parent)))  # the nearest state down the fail chain ending a phrase
        self._order = self._breadth_first(parent, depth)
        words, fails, links, ends = self._words, self._fail, self._link, self._ends
        root, chained, branch = self._root, self._chained, self._branch
        for state in self._order:  # _goto written out: this runs once for every word of every phrase
            if depth[state] < 2:
                continue
            word, fail = words[state - 1], fails[parent[state]]
            while True:
                if not fail:
                    following = root.get(word, 0)
                    break
                if chained[fail] and words[fail] == word:
                    following = fail + 1
                    break
                following = branch.get((fail, word))
                if following is not None:
                    break
                fail = fails[fail]
            fails[state] = following
            links[state] = following if following in ends else links[following]

    @staticmethod
    def _breadth_first(parent: array, depth: array) -> array:
        """The states, shallowest first (a counting sort by depth)."""
        counts = [0] * (max(depth, default=0) + 2)
        for state in range(1, len(parent)):
            if parent[state] >= 0:
                counts[depth[state] + 1] += 1
        for d in range(1, len(counts)):
            counts[d] += counts[d - 1]
        order = array("i", bytes(4 * counts[-1]))
        for state in range(1, len(parent)):
            if parent[state] >= 0:
                order[counts[depth[state]]] = state
                counts[depth[state]] += 1
        return order

    def _goto(self, state: int, word: str) -> int | None:
        if not state:
            return self._root.get(word)
        if self._chained[state] and self._words[state] == word:
            return state + 1
        return self._branch.get((state, word))

    def _states(self, words: Iterable[str]) -> Iterator[int]:
        """The state after each word of a text. Written out for speed: most words of a text lead nowhere from the
        start, which costs one dict lookup."""
        root, chained, own, branch, fail = self._root, self._chained, self._words, self._branch, self._fail
        state = 0
        for word in words:
            while state:
                if chained[state] and own[state] == word:
                    state += 1
                    break
                following = branch.get((state, word))
                if following is not None:
                    state = following
                    break
                state = fail[state]
            else:
                state = root.get(word, 0)
            yield state

    def found_in(self, texts: Iterable[str]) -> set[str]:
        """The phrases that stand in the running text of `texts` (read as one, in order: a phrase may span two)."""
        if not self._ends:
            return set()
        reached = bytearray(len(self._fail))
        for state in self._states(chain.from_iterable(map(str.split, texts))):
            reached[state] = 1
        for state in reversed(self._order):  # a state reached means every suffix of its words was, too
            if reached[state]:
                reached[self._fail[state]] = 1
        return {phrase for state, phrase in self._ends.items() if reached[state]}

    def in_text(self, text: str) -> Iterator[str]:
        """Every phrase that stands in `text`, as often as it does."""
        ends, link = self._ends, self._link
        for state in self._states(text.split()):
            if state not in ends:
                state = link[state]
            while state:
                yield ends[state]
                state = link[state]
