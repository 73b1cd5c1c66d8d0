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
            words = [same.setdefault(word, word) for word in phrase.split()]
            base = len(self._words)
            self._words.extend(words)
            self._chained.extend(bytes(len(words)))
            parent.extend([-1] * len(words))  # -1: no state (the word was read along an existing state)
            depth.extend(bytes(len(words)))
            state, created = 0, False
            for at, word in enumerate(words, base):
                following = None if created else self._goto(state, word)
                if following is None:
                    following = at + 1
                    if created:
                        self._chained[state] = 1  # state == at: the state made for the word before this one
                    elif state:
                        self._branch[(state, word)] = following
                    else:
                        self._root[word] = following
                    created = True
                    parent[following], depth[following] = state, depth[state] + 1
                state = following
            if state:
                self._ends[state] = phrase
        self._fail = array("i", bytes(4 * len(parent)))  # the longest proper suffix that is a state
        self._link = array("i", bytes(4 * len(parent)))  # the nearest state down the fail chain ending a phrase
        self._order = self._breadth_first(parent, depth)
        for state in self._order:
            if depth[state] < 2:
                continue
            word, fail = self._words[state - 1], self._fail[parent[state]]
            following = self._goto(fail, word)
            while following is None and fail:
                fail = self._fail[fail]
                following = self._goto(fail, word)
            fail = following or 0
            self._fail[state] = fail
            self._link[state] = fail if fail in self._ends else self._link[fail]

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
        """The state after each word of a text."""
        goto, fail, state = self._goto, self._fail, 0
        for word in words:
            following = goto(state, word)
            while following is None and state:
                state = fail[state]
                following = goto(state, word)
            state = following or 0
            yield state

    def found_in(self, texts: Iterable[str]) -> set[str]:
        """The phrases that stand in the running text of `texts` (read as one, in order: a phrase may span two)."""
        reached = bytearray(len(self._fail))
        for state in self._states(word for text in texts for word in text.split()):
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
